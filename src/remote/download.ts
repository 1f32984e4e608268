// A download made ON the host (get_url): curl, or wget where there is no curl,
// into a temp file beside dest, its digest checked there, then renamed over
// dest (atomic); nothing passes through the controller. Every value reaches the
// script as a positional parameter, never as script text.

/** The script `sh -c SCRIPT sh url dir name timeout insecure algo want mode chown backup header…` runs
 *  (chown: `uid:gid`, `uid`, `:gid` or ''; backup: the backup's path or ''; a header: `Name: value`). */
export const DOWNLOAD_SCRIPT = String.raw`
url=$1 dir=$2 name=$3 t=$4 insecure=$5 algo=$6 want=$7 mode=$8 owner=$9
shift 9
backup=$1
shift
cd -P -- "$dir" || exit 1
tmp=$(mktemp ./.phx-get_url.XXXXXX) || exit 1
trap 'rm -f -- "$tmp"' EXIT
# a stall of t seconds ends the download; one hour bounds it whatever the server does
n=$#
if command -v curl >/dev/null 2>&1; then
  for h do set -- "$@" -H "$h"; done
  shift $n
  [ "$insecure" = 1 ] && set -- "$@" -k
  code=$(timeout -s KILL 3600 curl -sS -L --proto =http,https,file --proto-redir =http,https \
    --connect-timeout "$t" --speed-time "$t" --speed-limit 1 -w '%{http_code}' -o "$tmp" "$@" "$url")
  rc=$?
  echo "status $code"
  [ "$rc" = 0 ] || exit 10
  case $code in 2*|000) ;; *) exit 11 ;; esac
elif command -v wget >/dev/null 2>&1; then
  case $url in
    file://*) cat -- "${'$'}{url#file://}" >"$tmp" || exit 10; echo "status 200" ;;
    *)
      for h do set -- "$@" "--header=$h"; done
      shift $n
      [ "$insecure" = 1 ] && set -- "$@" --no-check-certificate
      timeout -s KILL 3600 wget -q --tries=1 -T "$t" -O "$tmp" "$@" -- "$url" || { echo "status 000"; exit 10; }
      echo "status 200" ;;
  esac
else
  echo 'neither curl nor wget is installed on the host' >&2
  exit 12
fi
got=$("$algo"sum -- "$tmp") || exit 1
got=${'$'}{got%% *}
echo "digest $got"
[ -z "$want" ] || [ "$got" = "$want" ] || exit 13
sha=$(sha1sum -- "$tmp") && sha=${'$'}{sha%% *}
md5=$(md5sum -- "$tmp") && md5=${'$'}{md5%% *}
echo "sha1 $sha"
echo "md5 $md5"
echo "size $(wc -c <"$tmp")"
if [ -f "./$name" ] && [ ! -L "./$name" ] && cmp -s -- "$tmp" "./$name"; then echo same; exit 0; fi
[ -z "$backup" ] || cp -p -- "./$name" "$backup" || exit 1
chmod "$mode" -- "$tmp" || exit 1
[ -z "$owner" ] || chown "$owner" -- "$tmp" || exit 1
mv -f -- "$tmp" "./$name" || exit 1
trap - EXIT
echo written
`;

export interface DownloadOutcome {
  status?: number;
  digest?: string;
  sha1?: string;
  md5?: string;
  size?: number;
  /** the downloaded bytes were dest's already */
  same: boolean;
}

export function parseDownload(stdout: string): DownloadOutcome {
  const field = (k: string) => new RegExp(`^${k} (\\S*)$`, 'm').exec(stdout)?.[1];
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  return {
    status: num(field('status')),
    digest: field('digest'),
    sha1: field('sha1'),
    md5: field('md5'),
    size: num(field('size')),
    same: /^same$/m.test(stdout),
  };
}
