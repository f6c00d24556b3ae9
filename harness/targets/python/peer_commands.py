"""Deterministic built-in commands for the Python peer servers (the set README.md's command-line contract gives `ssh-harness serve`).

A command line is `;`-separated steps: `echo ARGS`, `cat` (stdin to stdout until EOF), `exit N`, `true`,
`false`, `discard` (read stdin, print the byte count), `yes N` (write N bytes of "y\\n"). Anything else
writes "NAME: command not found" to stderr and ends with status 127. Nothing is run by a shell.
"""
import shlex

MAX_YES = 1 << 30  # bound `yes N`


def parse(command):
    steps = []
    for part in command.split(';'):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        if words:
            steps.append(words)
    return steps


def _plan(steps):
    """Yields ('out', bytes) | ('err', bytes) | ('cat',) | ('discard',) | ('exit', n)."""
    for words in steps:
        name, args = words[0], words[1:]
        if name == 'echo':
            yield ('out', (' '.join(args) + '\n').encode())
        elif name == 'cat':
            yield ('cat',)
        elif name == 'discard':
            yield ('discard',)
        elif name == 'yes':
            n = int(args[0]) if args and args[0].isdigit() else 0
            yield ('yes', min(n, MAX_YES))
        elif name == 'exit':
            yield ('exit', int(args[0]) & 0xFF if args and args[0].lstrip('-').isdigit() else 0)
            return
        elif name == 'true':
            continue
        elif name == 'false':
            yield ('exit', 1)
            return
        else:
            yield ('err', ('%s: command not found\n' % name).encode())
            yield ('exit', 127)
            return
    yield ('exit', 0)


def _yes_chunks(n):
    chunk = b'y\n' * 16384
    while n > 0:
        piece = chunk[:n]
        n -= len(piece)
        yield piece


def run_sync(command, read, write, write_err):
    """read(n) -> bytes (b'' at EOF); returns the exit status."""
    for op in _plan(parse(command)):
        kind = op[0]
        if kind == 'out':
            write(op[1])
        elif kind == 'err':
            write_err(op[1])
        elif kind == 'yes':
            for piece in _yes_chunks(op[1]):
                write(piece)
        elif kind in ('cat', 'discard'):
            total = 0
            while True:
                data = read(32768)
                if not data:
                    break
                total += len(data)
                if kind == 'cat':
                    write(data)
            if kind == 'discard':
                write(('%d\n' % total).encode())
        elif kind == 'exit':
            return op[1]
    return 0


async def run_async(command, read, write, write_err):
    """Same, with `read` and `write` coroutines."""
    for op in _plan(parse(command)):
        kind = op[0]
        if kind == 'out':
            await write(op[1])
        elif kind == 'err':
            await write_err(op[1])
        elif kind == 'yes':
            for piece in _yes_chunks(op[1]):
                await write(piece)
        elif kind in ('cat', 'discard'):
            total = 0
            while True:
                data = await read(32768)
                if not data:
                    break
                total += len(data)
                if kind == 'cat':
                    await write(data)
            if kind == 'discard':
                await write(('%d\n' % total).encode())
        elif kind == 'exit':
            return op[1]
    return 0
