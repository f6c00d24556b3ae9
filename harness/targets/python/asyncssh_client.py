#!/usr/bin/python3
"""AsyncSSH client for ssh-harness (client peer `asyncssh-client`). Same contract as paramiko_client.py."""
import asyncio
import json
import os
import sys
import warnings

warnings.simplefilter('ignore')
import asyncssh  # noqa: E402

cfg = json.loads(os.environ['SSH_HARNESS_CLIENT_CONFIG'])


async def main():
    a = cfg.get('algorithms') or {}
    kw = {}
    for ours, theirs in (('kex', 'kex_algs'), ('hostKey', 'server_host_key_algs'), ('cipher', 'encryption_algs'),
                         ('mac', 'mac_algs'), ('compression', 'compression_algs')):
        if a.get(ours):
            kw[theirs] = a[ours]
    stdin = sys.stdin.buffer.read()
    async with asyncssh.connect(cfg['host'], int(cfg['port']), username=cfg['user'],
                                password=cfg.get('password'),
                                client_keys=[cfg['identity']] if cfg.get('identity') else None,
                                known_hosts=None, agent_path=None, preferred_auth='publickey,password',
                                connect_timeout=15, **kw) as conn:
        # conn.run(input=b'') sends no EOF for empty input: a command that reads to EOF would never end
        proc = await conn.create_process(cfg['command'], encoding=None)
        if stdin:
            proc.stdin.write(stdin)
        proc.stdin.write_eof()
        result = await proc.wait(check=False)
    sys.stdout.buffer.write(result.stdout or b'')
    sys.stderr.buffer.write(result.stderr or b'')
    return result.exit_status if result.exit_status is not None else 255


if __name__ == '__main__':
    try:
        sys.exit(asyncio.run(main()))
    except Exception as e:
        print('asyncssh-client: %s: %s' % (type(e).__name__, e), file=sys.stderr)
        sys.exit(255)
