#!/usr/bin/env bash
# A throwaway OpenSSH server on loopback serving the sample's SFTP firm, for `make demo`/`make ui`.
#
#   scripts/sftp-demo.sh start      keys, known_hosts and sshd under $HUB_DATA_DIR/sftp-demo/
#   scripts/sftp-demo.sh stop       stop it
#   scripts/sftp-demo.sh status     running or not
#
# The server listens on 127.0.0.1:${HUB_SFTP_PORT:-2222}, lets only the current user in, by key,
# and serves a copy of sample/<firm> (the hub archives files there: the committed sample is
# never touched). Its host key and the hub's client key are generated on first start; the
# known_hosts entry is written from the host key itself (no ssh-keyscan: nothing to trust).
# `start` exits 3, saying why, when sshd is missing or cannot listen.
set -euo pipefail
cd "$(dirname "$0")/.."

FIRM=stamperia-soliera
DATA=${HUB_DATA_DIR:-data}
DEMO=$DATA/sftp-demo
PORT=${HUB_SFTP_PORT:-2222}
USER_NAME=${HUB_SFTP_USER:-$(id -un)}
SSHD=${SSHD:-/usr/sbin/sshd}

running() {
  [ -f "$DEMO/sshd.pid" ] && kill -0 "$(cat "$DEMO/sshd.pid")" 2>/dev/null
}

skip() {
  echo "sftp-demo: $1" >&2
  echo "sftp-demo: the firm $FIRM (delivers over SFTP) is skipped; install openssh-server" \
       "(scripts/system-deps.sh) to include it" >&2
  exit 3
}

start() {
  if running; then
    echo "sftp-demo: sshd already running on 127.0.0.1:$PORT (pid $(cat "$DEMO/sshd.pid"))"
    return 0
  fi
  [ -x "$SSHD" ] || skip "$SSHD not found"
  command -v ssh-keygen >/dev/null || skip "ssh-keygen not found"
  mkdir -p "$DEMO/root/sample"
  DEMO=$(cd "$DEMO" && pwd)
  if [ ! -d "$DEMO/root/sample/$FIRM" ]; then  # first start: the firm's files as delivered
    cp -rp "sample/$FIRM" "$DEMO/root/sample/$FIRM"
  fi
  [ -f "$DEMO/host_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C sftp-demo-host -f "$DEMO/host_ed25519"
  [ -f "$DEMO/client_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C hub-demo -f "$DEMO/client_ed25519"
  cp "$DEMO/client_ed25519.pub" "$DEMO/authorized_keys"
  echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$DEMO/host_ed25519.pub")" > "$DEMO/known_hosts"
  cat > "$DEMO/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DEMO/host_ed25519
PidFile $DEMO/sshd.pid
AuthorizedKeysFile $DEMO/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
AllowUsers $USER_NAME
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
Subsystem sftp internal-sftp -d $DEMO/root
EOF
  if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; fi  # privilege separation folder
  rm -f "$DEMO/sshd.log"
  "$SSHD" -f "$DEMO/sshd_config" -E "$DEMO/sshd.log" || skip "sshd did not start: $(cat "$DEMO/sshd.log" 2>/dev/null)"
  for _ in $(seq 100); do  # sshd daemonizes before it listens
    grep -q "Server listening" "$DEMO/sshd.log" 2>/dev/null && break
    if grep -q -i "error\|fatal" "$DEMO/sshd.log" 2>/dev/null; then
      skip "sshd cannot listen on 127.0.0.1:$PORT: $(cat "$DEMO/sshd.log")"
    fi
    sleep 0.1
  done
  running || skip "sshd exited: $(cat "$DEMO/sshd.log" 2>/dev/null)"
  echo "sftp-demo: sshd on 127.0.0.1:$PORT serving $FIRM as user $USER_NAME," \
       "host key $(ssh-keygen -l -f "$DEMO/host_ed25519.pub" | cut -d' ' -f2)"
}

stop() {
  if running; then
    kill "$(cat "$DEMO/sshd.pid")"
    rm -f "$DEMO/sshd.pid"
    echo "sftp-demo: stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on 127.0.0.1:$PORT"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
