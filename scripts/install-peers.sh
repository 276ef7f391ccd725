#!/usr/bin/env bash
# Installs the real protocol peers Sealbox's tests and benchmarks run against, and the tools
# Sealbox itself runs to read attachments (Debian packages). Idempotent: when every package is installed and Exim is
# extracted it only runs dpkg-query and exits. Run as root; `npm test` runs it first (see
# scripts/pretest.sh). With --check it installs nothing: it names what is missing and exits 1.
#
# It never starts a daemon: the tests run their own private instances
# (test/support/postfix.ts starts Postfix from a temp config directory,
# test/support/exim.ts Exim from the binary extracted below).
set -euo pipefail

# package -> command it must provide once installed (checked at the end)
PEERS=(
  "postfix:/usr/sbin/postfix"
  "swaks:swaks"
  "dovecot-imapd:/usr/sbin/dovecot"
  "dovecot-lmtpd:/usr/lib/dovecot/lmtp"
  "notmuch:notmuch"
  # formail writes mboxo files for the import tests
  "procmail:formail"
  # Info-ZIP writes the .eml archives for the import tests
  "zip:zip"
  # Info-ZIP unzip reads an export job's zip volumes in its test, a reader that is not ours
  "unzip:unzip"
  "opendkim-tools:opendkim-testmsg"
  # bookworm ships miltertest as its own package, no longer in opendkim-tools
  "miltertest:miltertest"
  "chromium:chromium"
  # Attachment text (src/index/extract/): PDF through poppler's pdftotext, DOC and XLS through
  # catdoc's catdoc and xls2csv, each under prlimit (util-linux, essential in Debian)
  "poppler-utils:pdftotext"
  "catdoc:catdoc"
  # 7z archives through Debian's 7-Zip (7zz), listed and read member by member to its stdout
  "7zip:7zz"
  # OCR (index.ocr): pictures and PDFs without a text layer (pdftoppm renders, tesseract reads)
  "tesseract-ocr:tesseract"
  "tesseract-ocr-eng:tesseract"
  "util-linux:prlimit"
  # LibreOffice without its GUI makes the real DOCX, XLSX, PPTX, ODT, RTF, DOC and PDF files the
  # attachment tests mail (test/support/libreoffice.ts)
  "libreoffice-writer-nogui:soffice"
  "libreoffice-calc-nogui:soffice"
  "libreoffice-impress-nogui:soffice"
  # OpenLDAP's server and tools for the directory sync tests: a private slapd of the test's own,
  # never the system instance (test/support/slapd.ts)
  "slapd:/usr/sbin/slapd"
  "ldap-utils:ldapadd"
  # openssl makes the CA and the server certificate of the StartTLS test's slapd
  "openssl:openssl"
  # A private Samba Active Directory domain controller for the AD preset's test, provisioned into
  # a temp folder by samba-tool (test/support/samba-ad.ts), never the system's
  "samba-ad-dc:/usr/sbin/samba"
  "samba-ad-provision:/usr/share/samba/setup/ad-schema"
  # S3 with Object Lock for the object-storage backend (blobs.kind "s3"): a private single-node
  # Ceph cluster with its RADOS Gateway, started by scripts/ceph-rgw.sh (test/support/ceph-rgw.ts)
  "ceph-mon:ceph-mon"
  "ceph-osd:ceph-osd"
  "ceph-common:ceph"
  "radosgw:radosgw"
  # PostgreSQL for the PostgreSQL backend (store.kind "postgres", src/store/postgres/): the tests
  # run a private cluster of their own, initdb + pg_ctl in a temp folder (test/support/postgres.ts)
  "postgresql:/usr/lib/postgresql/15/bin/initdb"
  # ImageMagick renders the picture with a word in it that the OCR test mails
  "imagemagick:/usr/bin/convert"
)

die() { echo "install-peers: error: $*" >&2; exit 1; }
CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

# Exim: Debian's exim4-daemon-light conflicts with postfix as an installed package, so its
# binary is taken out of the .deb files (never installed) into EXIM_ROOT; the tests run it with
# their own config, spool and ports (test/support/exim.ts). Exim looks up its compiled-in user
# Debian-exim at start, so that system user is created as the package itself would.
EXIM_ROOT=${SEALBOX_EXIM_ROOT:-/opt/sealbox-peers/exim}
EXIM_PACKAGES=(exim4-daemon-light exim4-base exim4-config)
extract_exim() {
  if [ -x "$EXIM_ROOT/usr/sbin/exim4" ] && getent passwd Debian-exim >/dev/null; then
    return 0
  fi
  [ $CHECK -eq 0 ] || { echo "install-peers: Exim is not extracted to $EXIM_ROOT"; return 1; }
  [ "$(id -u)" -eq 0 ] || die "Exim is not extracted to $EXIM_ROOT and not root; run as root"
  echo "install-peers: extracting ${EXIM_PACKAGES[*]} to $EXIM_ROOT"
  local tmp
  tmp=$(mktemp -d)
  chown _apt "$tmp" 2>/dev/null || true   # apt downloads as _apt where it can
  if ! (cd "$tmp" && apt-get download "${EXIM_PACKAGES[@]}" >/dev/null); then
    echo "install-peers: apt-get download failed; running apt-get update and retrying" >&2
    apt-get update >/dev/null || die "apt-get update failed"
    (cd "$tmp" && apt-get download "${EXIM_PACKAGES[@]}" >/dev/null) || die "apt-get download ${EXIM_PACKAGES[*]} failed"
  fi
  rm -rf "$EXIM_ROOT.new"
  mkdir -p "$EXIM_ROOT.new"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$EXIM_ROOT.new" || die "dpkg-deb -x $deb failed"; done
  # The shared libraries the daemon links against come from Debian as ordinary packages.
  local libs=() lib
  for lib in $(dpkg-deb -f "$tmp"/exim4-daemon-light_*.deb Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//' | awk '$1 ~ /^lib/ {print $1}'); do
    installed "$lib" || libs+=("$lib")
  done
  if [ ${#libs[@]} -gt 0 ]; then
    echo "install-peers: installing Exim's libraries ${libs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${libs[@]}" >/dev/null || die "apt-get install ${libs[*]} failed"
  fi
  rm -rf "$tmp"
  local missing_libs
  missing_libs=$(ldd "$EXIM_ROOT.new/usr/sbin/exim4" | grep 'not found' || true)
  [ -z "$missing_libs" ] || die "exim4 needs libraries that are not installed: $missing_libs"
  rm -rf "$EXIM_ROOT"
  mv "$EXIM_ROOT.new" "$EXIM_ROOT"
  getent passwd Debian-exim >/dev/null || adduser --system --group --quiet --allow-bad-names --no-create-home --home /nonexistent Debian-exim \
    || die "could not create the Debian-exim system user"
  [ -x "$EXIM_ROOT/usr/sbin/exim4" ] || die "no $EXIM_ROOT/usr/sbin/exim4 after extracting"
}

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

exim_missing=0
extract_exim || exim_missing=1

missing=()
for entry in "${PEERS[@]}"; do
  pkg=${entry%%:*}
  installed "$pkg" || missing+=("$pkg")
done

if [ $CHECK -eq 1 ]; then
  [ ${#missing[@]} -eq 0 ] && [ $exim_missing -eq 0 ] && exit 0
  [ ${#missing[@]} -eq 0 ] || echo "install-peers: missing packages: ${missing[*]}"
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all peers installed (Exim in $EXIM_ROOT)"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}) and not root; run as root"
command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"

echo "install-peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Never start a daemon from a maintainer script: invoke-rc.d asks policy-rc.d,
# and exit code 101 means "action forbidden". Docker images ship one already;
# elsewhere put a temporary one in place and remove it afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# temporary, from sealbox scripts/install-peers.sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

# Postfix asks two questions at install time; answer them up front.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  debconf-set-selections <<'EOF' || die "debconf-set-selections failed"
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string sealbox.test
EOF
fi
# slapd would ask for a domain and an admin password; the tests never use the system instance
# (they start their own with a config of their own), so it is left unconfigured.
if printf '%s\n' "${missing[@]}" | grep -qx slapd; then
  debconf-set-selections <<'EOF' || die "debconf-set-selections failed"
slapd slapd/no_configuration boolean true
EOF
fi

apt_install() {
  apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# Refresh the package lists only when needed: no candidate for a missing
# package (lists never fetched), or the install fails (stale lists, 404s).
has_candidate() {
  apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'
}
for pkg in "${missing[@]}"; do
  if ! has_candidate "$pkg"; then
    echo "install-peers: no candidate for $pkg; running apt-get update"
    apt-get update || die "apt-get update failed"
    break
  fi
done

if ! apt_install "${missing[@]}"; then
  echo "install-peers: install failed; running apt-get update and retrying" >&2
  apt-get update || die "apt-get update failed"
  apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
fi

for entry in "${PEERS[@]}"; do
  pkg=${entry%%:*}
  cmd=${entry#*:}
  installed "$pkg" || die "package $pkg is not installed after apt-get install"
  if [[ $cmd == /* ]]; then
    [ -x "$cmd" ] || die "package $pkg installed but $cmd is missing"
  else
    command -v "$cmd" >/dev/null || die "package $pkg installed but command $cmd is missing"
  fi
done
echo "install-peers: done"
