#!/usr/bin/python3
"""Accept loop for tinysshd, which has no listener of its own (it is meant for inetd/tcpserver).

usage: tinyssh_accept_loop.py TINYSSHD KEYDIR HOST PORT   (PORT 0 = any free port)
Prints `tinyssh-accept-loop listening on HOST:PORT`, then hands every connection to a new
`tinysshd -v KEYDIR` on stdin/stdout, with the tcpserver-style TCPREMOTEIP/TCPREMOTEPORT environment.
tinysshd's messages go to our stderr. Children stay in our process group, so stopping the group stops them.
"""
import os
import signal
import socket
import subprocess
import sys

tinysshd, keydir, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def reap(*_):
    # a handler, not SIG_IGN: an ignored SIGCHLD survives exec, and tinysshd waits for its own children
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


signal.signal(signal.SIGCHLD, reap)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(128)
bound_host, bound_port = srv.getsockname()[:2]
print('tinyssh-accept-loop listening on %s:%d' % (bound_host, bound_port), file=sys.stderr, flush=True)

while True:
    try:
        conn, addr = srv.accept()
    except InterruptedError:
        continue
    env = dict(os.environ, PROTO='TCP', TCPREMOTEIP=addr[0], TCPREMOTEPORT=str(addr[1]),
               TCPLOCALIP=bound_host, TCPLOCALPORT=str(bound_port))
    try:
        subprocess.Popen([tinysshd, '-v', keydir], stdin=conn, stdout=conn, env=env, close_fds=True)
    except OSError as e:
        print('cannot start %s: %s' % (tinysshd, e), file=sys.stderr, flush=True)
    conn.close()  # the child holds its own copy of the socket
