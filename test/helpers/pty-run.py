# Runs a command under a pseudo-terminal, sends it SIGINT once a progress bar is on screen (cursor hidden),
# and prints everything the terminal received; the exit code and whether the signal was sent go to stderr.
import os, pty, signal, sys, time, select
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b''
sent = False
deadline = time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not sent and b'[' in out and b'/' in out and b'\x1b[?25l' in out:
        time.sleep(0.3)
        os.kill(pid, signal.SIGINT)
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stdout.flush()
sys.stderr.write('\nEXIT %d SENT %s\n' % (os.waitstatus_to_exitcode(status), sent))
