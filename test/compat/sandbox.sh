#!/usr/bin/env bash
# Runs one command as root inside a throwaway root, then prints what it changed.
#
#   sandbox.sh ITEM_DIR OUT_DIR COMMAND
#
# The throwaway root is an overlay of the host's root filesystem whose upper
# layer is a tmpfs (or an ext4 image: PHX_COMPAT_UPPER=ext4, below) that exists
# only in a private mount namespace (unshare): every
# write to /etc, /usr, /opt, /root… lands there and disappears with the
# namespace. The namespace also has its own network (loopback only), hostname,
# IPC and PIDs; /proc/sys and /sys are read-only, /dev holds only a few devices.
# ITEM_DIR is copied to /phx-compat/item (COMMAND's working directory); the
# repository (PHX_COMPAT_REPO) and node's prefix are bound read-only at their
# own paths.
#
# OUT_DIR gets: output (COMMAND's stdout and stderr), rc, and state.tsv: one line
# per path that differs from the host's (type, mode, owner, group, size, sha256
# or link target or `changed:`sha256 of the changed lines, path), owners by name
# as the sandbox's /etc/passwd says; changes.txt shows the changed lines.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "sandbox.sh: needs root" >&2; exit 97; }
item=$(readlink -f "$1") out=$(readlink -f "$2") cmd=$3
repo=${PHX_COMPAT_REPO:-$(cd "$(dirname "$0")/../.." && pwd -P)}
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
mkdir -p "$out"

if [ "${PHX_COMPAT_INNER:-}" != 1 ]; then
  exec env PHX_COMPAT_INNER=1 PHX_COMPAT_REPO="$repo" \
    unshare --mount --uts --ipc --net --pid --fork --propagation private -- "$0" "$@"
fi

s=$(mktemp -d /tmp/phx-compat.XXXXXX)
trap 'umount -R "$s" 2>/dev/null || umount -l "$s"; rmdir "$s"' EXIT
# PHX_COMPAT_UPPER=ext4: the upper layer on an ext4 image instead of a tmpfs. Ansible's `backup: yes`
# copies the file's attributes (lsattr/chattr: `e` on this host's ext4), which a tmpfs upper layer cannot
# hold ("Operation not supported"), so its recorded runs use this; phx-play's backups copy no attributes.
if [ "${PHX_COMPAT_UPPER:-tmpfs}" = ext4 ]; then
  image=$(mktemp /tmp/phx-compat-upper.XXXXXX)
  truncate -s 2G "$image" && mkfs.ext4 -q -F "$image"
  mount -o loop "$image" "$s"
  rm -f "$image" # the loop device keeps it until the namespace's mounts go
else
  mount -t tmpfs -o mode=0755 tmpfs "$s"
fi
mkdir "$s/up" "$s/wk" "$s/root"
mount -t overlay -o "lowerdir=/,upperdir=$s/up,workdir=$s/wk" overlay "$s/root"
r=$s/root
ro_bind() { mkdir -p "$2" && mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"; }

mount -t proc proc "$r/proc"
ro_bind "$r/proc/sys" "$r/proc/sys"
ro_bind /sys "$r/sys"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$r/dev"
for d in null zero full random urandom tty; do
  touch "$r/dev/$d" && mount --bind "/dev/$d" "$r/dev/$d"
done
mkdir "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
ln -s /proc/self/fd "$r/dev/fd"
mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mkdir -p "$r/run/lock" "$r/run/sshd" # as on a host where sshd runs (sshd -t wants it)
ro_bind "$repo" "$r$repo"
[ "$node_prefix" = /usr ] || ro_bind "$node_prefix" "$r$node_prefix"
mkdir -p "$r/phx-compat"
cp -a "$item" "$r/phx-compat/item"
ip link set lo up 2>/dev/null || true
hostname phx-compat

set +e
chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  ANSIBLE_NOCOLOR=1 NO_COLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
  timeout -k 5 "${PHX_COMPAT_TIMEOUT:-120}" sh -c "cd /phx-compat/item && $cmd" >"$out/output" 2>&1 </dev/null
echo $? >"$out/rc"
set -e

# the changed paths, read inside the sandbox so that owners resolve by its passwd
mkdir "$r/phx-compat/upper"
mount --bind "$s/up" "$r/phx-compat/upper"
chroot "$r" /bin/sh -c '
  cd /phx-compat/upper || exit 1
  find . -path ./phx-compat -prune -o -path ./proc -prune -o -path ./dev -prune -o -path ./sys -prune \
    -o -path ./run -prune -o ! -path . -printf "%y\037%m\037%u\037%g\037%s\037%l\037%p\n" |
  while IFS=$(printf "\037") read -r y m u g size l p; do
    p=${p#.}
    case $y in
      c) [ "$(stat -c %t:%T "./$p")" = 0:0 ] && { printf "deleted\t-\t-\t-\t-\t-\t%s\n" "$p"; continue; } ;;
      f) l=$(sha256sum <"./$p" | cut -c1-64) ;;
      d) size=- ;;
    esac
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$y" "$m" "$u" "$g" "$size" "${l:--}" "$p"
  done' >"$out/upper.tsv"
umount "$r/phx-compat/upper"

# keep only what differs from the host (overlay copies a directory up when a
# child changes; its own metadata is then the host's). A file that exists on the
# host is described by its changed lines, not its content, so that the state does
# not depend on the rest of the host's file; shadow's change date and the ids
# that useradd picks are replaced by '#'.
# A user's ~/.ansible and ~/.ansible/tmp are skipped as /root/.ansible is: Ansible's remote temporary
# directory, made when a task becomes that user (become_user), not content the play manages.
# apt's solver log (/var/log/apt/eipp.log.xz) is skipped: Ansible's apt check mode simulates with
# apt-get -s, which writes it; it records a simulation, not a state either tool manages.
normalize() {
  case $1 in
    /etc/shadow) sed -E 's/^([^:]*:[^:]*:)[0-9]+:/\1#:/' ;;
    /etc/passwd) sed -E 's/^([^:]*:[^:]*:)[0-9]+:[0-9]+:/\1#:#:/' ;;
    /etc/group) sed -E 's/^([^:]*:[^:]*:)[0-9]+:/\1#:/' ;;
    *) cat ;;
  esac
}
set +e
: >"$out/state.tsv"
while IFS="	" read -r y m u g size l p; do
  case $p in
    /tmp/* | /var/tmp/* | /var/log/lastlog | /var/log/faillog | /var/log/apt/eipp.log.xz | /var/log/wtmp | /var/log/btmp | /root/.ansible | /root/.ansible/* | /home/*/.ansible | /home/*/.ansible/tmp | /home/*/.ansible/tmp/* | /root/.cache | /root/.cache/* | */__pycache__ | */__pycache__/* | /etc/*-) continue ;;
  esac
  if [ "$y" != deleted ] && [ -e "$p" -o -L "$p" ]; then
    hy=$(find "$p" -maxdepth 0 -printf "%y\t%m\t%U\t%G")
    sy=$(chroot "$r" find "$p" -maxdepth 0 -printf "%y\t%m\t%U\t%G")
    if [ "$y" = f ] && [ "${hy%%	*}" = f ]; then
      diff --unchanged-line-format= --old-line-format='-%L' --new-line-format='+%L' \
        <(normalize "$p" <"$p") <(normalize "$p" <"$r$p") >"$s/diff"
      if [ -s "$s/diff" ]; then
        size=- l=changed:$(sha256sum <"$s/diff" | cut -c1-64)
        { printf '## %s\n' "$p"; head -c 2000 "$s/diff"; } >>"$out/changes.txt"
      elif [ "$hy" = "$sy" ]; then continue
      else size=- l=same
      fi
    elif [ "$hy" = "$sy" ]; then
      case $y in
        d) continue ;;
        l) [ "$(readlink "$p")" = "$l" ] && continue ;;
      esac
    fi
  fi
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$y" "$m" "$u" "$g" "$size" "$l" "$p" >>"$out/state.tsv"
done <"$out/upper.tsv"
rm "$out/upper.tsv"
