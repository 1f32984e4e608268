// chown/chmod that never act through a symlink below a trusted directory.
// In a tree that someone else can write (a container's volume, whose root is
// uid 100000 on the host), any name can become a symlink between our reading
// of the tree and our change: `chown x path` and `chmod m path` follow it, and
// `chown -h` still resolves the directories on the way. GNU chmod has no
// no-follow mode (coreutils < 9.5 races even with -R), so the change is made
// by perl, which every Proxmox VE host has (PVE itself is written in it):
// each directory below `root` is entered with O_NOFOLLOW|O_DIRECTORY (fchdir),
// the last name is opened with O_PATH|O_NOFOLLOW (no side effect even on a
// device or fifo), checked to be the same non-symlink that lstat saw, and
// changed through /proc/self/fd/N, i.e. exactly that inode (lchown: the link
// itself, by name in that directory). Anything else is left alone with
// a message and exit code 1. `root` itself is opened normally: it is the
// path the task names, followed like `find -H` and Ansible do.

/** Linux's O_PATH (x86-64, arm64 and the other generic ABIs); perl's Fcntl does not export it. */
const O_PATH = '010000000';

export const NO_FOLLOW_SCRIPT = `use strict; use warnings;
use Fcntl qw(O_NOFOLLOW O_DIRECTORY);
use POSIX ();
use constant O_PATH => ${O_PATH};
my ($root, $op, $spec, $sep, @paths) = @ARGV;
die "usage: root chown|lchown|chmod spec -- paths\\n" unless defined $sep && $sep eq '--' && $op =~ /^(l?chown|chmod)$/;
my ($uid, $gid, $mode) = (-1, -1, 0);
if ($op eq 'chmod') {
  $spec =~ /^[0-7]{1,4}$/ or die "bad mode: $spec\\n";
  $mode = oct $spec;
} else {
  $spec =~ /^(\\d*)(?::(\\d+))?$/ && ($1 ne '' || defined $2) or die "bad owner: $spec\\n";
  ($uid, $gid) = ($1 eq '' ? -1 : $1, defined $2 ? $2 : -1);
}
(my $top = $root) =~ s!/+$!!;
my $rc = 0;
sub skip { warn "phx-play: $_[0]: $_[1]\\n"; $rc = 1 }
PATH: for my $p (@paths) {
  (my $q = $p) =~ s!/+$!!;
  my $fh;
  if ($q eq $top && $op ne 'lchown') {
    sysopen($fh, $p, O_PATH) or do { skip($p, "$!"); next };
  } else {
    if (index($q, "$top/") != 0) { skip($p, "not below $root"); next }
    my @names = grep { $_ ne '' } split m{/}, substr($q, length($top) + 1);
    my $last = pop @names;
    my $d;
    sysopen($d, $top eq '' ? '/' : $top, O_PATH | O_DIRECTORY) && chdir($d) or do { skip($p, "$!"); next };
    for my $n (@names) {
      $n ne '..' && sysopen($d, $n, O_PATH | O_DIRECTORY | O_NOFOLLOW) && chdir($d)
        or do { skip($p, "$n is not a directory (a symlink?): left alone"); next PATH };
    }
    my @l = lstat($last) or do { skip($p, "$!"); next };
    if ($op eq 'lchown') {
      # the link itself, by name in this directory: lchown never follows
      -l _ or do { skip($p, "not a symlink (any more): left alone"); next };
      POSIX::lchown($uid, $gid, $last) or skip($p, "chown: $!");
      next;
    }
    !-l _ or do { skip($p, "a symlink now: left alone"); next };
    sysopen($fh, $last, O_PATH | O_NOFOLLOW) or do { skip($p, "$!"); next };
    my @s = stat($fh);
    @s && ($s[2] & 0170000) != 0120000 && $s[0] == $l[0] && $s[1] == $l[1]
      or do { skip($p, "replaced while being changed: left alone"); next };
  }
  my $fd = '/proc/self/fd/' . fileno($fh);
  if ($op eq 'chown') { chown($uid, $gid, $fd) or skip($p, "chown: $!") }
  else { chmod($mode, $fd) or skip($p, "chmod: $!") }
}
exit $rc;
`;

/** chown/chmod: anything but a symlink (opened, never followed); lchown: symlinks themselves. */
export type NoFollowOp = 'chown' | 'lchown' | 'chmod';

/**
 * argv that chowns (`spec` = uid, uid:gid or :gid, numeric) or chmods
 * (`spec` = octal) `paths`, all at or below `root`, without following any
 * symlink below `root`. Its tail is the plain command: `chown spec -- paths…`.
 */
export function noFollowArgv(root: string, op: NoFollowOp, spec: string, paths: string[]): string[] {
  // a relative path's directory is '.': name its entries './x' so that they read as below it
  const below = (p: string) => (root === '.' && !p.startsWith('./') ? `./${p}` : p);
  return ['perl', '-e', NO_FOLLOW_SCRIPT, '--', root, op, spec, '--', ...paths.map(below)];
}

/** The plain `chown|chmod spec -- paths…` a noFollowArgv stands for (for descriptions and tests). */
export function plainCommand(argv: readonly string[]): string[] {
  return argv[0] === 'perl' && argv[2] === NO_FOLLOW_SCRIPT ? argv.slice(5) : [...argv];
}
