#!/usr/bin/env bash
# ceph-rgw.sh start|stop DIR [rgw] -- a private single-node Ceph cluster (one monitor, one OSD, no
# manager) with its RADOS Gateway answering S3 on 127.0.0.1, everything under DIR. For the tests
# and benchmarks of the object-storage backend (blobs.kind "s3"); never a production layout.
#
#   start: creates the cluster on first use, restarts it later (data kept); prints
#          "s3 ready http://127.0.0.1:PORT" once S3 answers. DIR/credentials holds the S3
#          user's keys (mode 0600, the format blobs.s3.credentialsFile reads).
#   stop:  SIGTERM to each daemon by its pid file (radosgw, osd, mon), SIGKILL after a grace;
#          only processes whose command line and config are this DIR's. KILL=1: SIGKILL at once.
#          "stop DIR rgw" stops the gateway alone (S3 down, cluster up); start brings it back.
#
# Env (first start only; later starts read them back from DIR/ports):
#   MON_PORT RGW_PORT OSD_PORT_MIN OSD_PORT_MAX   loopback ports (the OSD binds a few in its range)
#   OBJECTSTORE   memstore (default: in RAM, written out on a clean stop only) or bluestore
#                 (a sparse file; survives SIGKILL, slower)
# Needs: ceph-mon ceph-osd ceph-common radosgw (scripts/install-peers.sh).
set -euo pipefail

CMD=${1:-}
DIR=${2:-}
[ -n "$CMD" ] && [ -n "$DIR" ] || { echo "usage: $0 start|stop DIR [rgw]" >&2; exit 2; }
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CONF=$DIR/ceph.conf
export CEPH_CONF=$CONF
DAEMONS=(client.rgw.sealbox osd.0 mon.a)   # in stopping order

say() { echo "ceph-rgw: $*"; }
die() {
  echo "ceph-rgw: error: $*" >&2
  for f in "$DIR"/log/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
  exit 1
}

# A pid is running when /proc says so and it is not a zombie: the init here reaps orphans late,
# so `kill -0` still succeeds for a daemon that has exited.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
pid_of() { local f=$DIR/run/$1.pid; [ -s "$f" ] && cat "$f"; }
up() { local p; p=$(pid_of "$1") && running "$p"; }
# Ours: a ceph daemon started with this DIR's config.
ours() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qE '^(/usr/bin/)?(radosgw|ceph-osd|ceph-mon) ' \
    && tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qxF "CEPH_CONF=$CONF"
}
# until SECONDS WHAT CMD...: retry CMD until it succeeds, or fail naming WHAT.
until_ok() {
  local limit=$1 what=$2
  shift 2
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "no $what after ${limit}s"
    sleep 0.2
  done
}

start() {
  mkdir -p "$DIR"/{run,log,crash,mon.a,osd.0,rgw}
  if [ ! -f "$CONF" ]; then
    : "${MON_PORT:?MON_PORT is required on the first start}" "${RGW_PORT:?RGW_PORT is required}"
    : "${OSD_PORT_MIN:?OSD_PORT_MIN is required}" "${OSD_PORT_MAX:?OSD_PORT_MAX is required}"
    local fsid store=${OBJECTSTORE:-memstore}
    fsid=$(cat /proc/sys/kernel/random/uuid)
    printf 'MON_PORT=%s\nRGW_PORT=%s\n' "$MON_PORT" "$RGW_PORT" >"$DIR/ports"
    # No cephx on a loopback-only test cluster; radosgw then also needs the crc mon mode, or it
    # retries authentication until client mount timeout. tcp_nodelay: small GETs otherwise wait
    # for delayed ACKs (~40 ms). The monitor stops itself below "avail crit" free disk.
    cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MON_PORT]
public addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind msgr1 = false
ms bind ipv6 = false
ms bind port min = $OSD_PORT_MIN
ms bind port max = $OSD_PORT_MAX
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
client mount timeout = 30
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
[mon]
mon data = $DIR/mon.\$id
mon cluster log file = $DIR/log/cluster.log
[osd]
osd data = $DIR/osd.\$id
osd objectstore = $store
osd fast shutdown = false
memstore device bytes = 4294967296
bluestore block create = true
bluestore block size = 10737418240
bluestore fsck on mount = false
osd memory target = 1073741824
[client.rgw.sealbox]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $DIR/rgw
rgw enable usage log = false
rgw init timeout = 60
EOF
    monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
    # A failed first start leaves no config behind, so the next one starts afresh.
    ceph-mon --mkfs -i a --monmap "$DIR/monmap" >"$DIR/log/mkfs-mon.out" 2>&1 || { rm -f "$CONF"; die "monitor mkfs failed"; }
  fi
  # shellcheck source=/dev/null
  . "$DIR/ports"
  local ceph="ceph --connect-timeout 10"

  up mon.a || ceph-mon -i a 2>>"$DIR/log/stderr.log" || die "ceph-mon did not start"
  until_ok 120 "monitor quorum" $ceph mon stat

  if [ ! -f "$DIR/osd.0/fsid" ]; then
    local uuid id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$($ceph osd new "$uuid") || die "osd new failed"
    [ "$id" = 0 ] || die "the new OSD is $id, not 0"
    ceph-osd -i 0 --mkfs --osd-uuid "$uuid" >"$DIR/log/mkfs-osd.out" 2>&1 || die "osd mkfs failed"
  fi
  up osd.0 || ceph-osd -i 0 2>>"$DIR/log/stderr.log" || die "ceph-osd did not start"
  until_ok 120 "osd.0 up" bash -c "$ceph osd dump | grep -q '^osd.0 up'"

  up client.rgw.sealbox || radosgw -n client.rgw.sealbox 2>>"$DIR/log/stderr.log" || die "radosgw did not start"
  until_ok 120 "S3 answer on port $RGW_PORT" curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"

  if [ ! -s "$DIR/credentials" ]; then
    local access secret
    access=SBX$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F | head -c 17)
    secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)
    radosgw-admin user create --uid=sealbox --display-name="Sealbox tests" \
      --access-key="$access" --secret-key="$secret" >"$DIR/log/user-create.out" 2>&1 || die "S3 user create failed"
    (umask 077 && printf '{"accessKeyId": "%s", "secretAccessKey": "%s"}\n' "$access" "$secret" >"$DIR/credentials")
  fi
  say "s3 ready http://127.0.0.1:$RGW_PORT"
}

stop() {
  local sig=TERM rc=0
  [ "${KILL:-0}" = 1 ] && sig=KILL
  local names=("${DAEMONS[@]}")
  [ "${1:-}" = rgw ] && names=(client.rgw.sealbox)
  for name in "${names[@]}"; do
    local p
    p=$(pid_of "$name") || continue
    if running "$p" && ours "$p"; then
      kill -"$sig" "$p"
      local end=$((SECONDS + ${GRACE:-30}))
      while running "$p" && [ $SECONDS -lt $end ]; do sleep 0.05; done
      if running "$p"; then
        echo "ceph-rgw: $name ($p) still running after SIG$sig; SIGKILL" >&2
        kill -KILL "$p" 2>/dev/null || true
        rc=1
      fi
      say "stopped $name ($p)"
    fi
    rm -f "$DIR/run/$name.pid"
  done
  return $rc
}

case "$CMD" in
  start) start ;;
  stop) stop "${3:-}" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
