#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard-watch.service passes systemd-analyze verify (with ExecStart
# pointing at the daxguard under test), and verify here does catch a
# broken unit, so that the pass means something.  systemd is not pid 1
# on the test machines: the unit is verified, not run.
#
# Usage: unit.sh UNIT

# shellcheck source-path=SCRIPTDIR source=lib-watch.sh
. "$(dirname "$0")/lib-watch.sh"

set +e
dg_require_cmd systemd-analyze
[[ -n "${DAXGUARD:-}" && -x "$DAXGUARD" ]] || dg_fail "DAXGUARD is not set"
UNIT=${1:?usage: unit.sh UNIT}
dg_tmpdir

grep -q '^ExecStart=.*/daxguard watch$' "$UNIT" || dg_fail "$UNIT: no ExecStart=.../daxguard watch"
sed "s|^ExecStart=.*/daxguard watch$|ExecStart=$DAXGUARD watch|" "$UNIT" \
	>"$DG_TMP/daxguard-watch.service"
dg_run systemd-analyze verify --man=no "$DG_TMP/daxguard-watch.service"
dg_expect_eq "systemd-analyze verify daxguard-watch.service: exit status" 0 "$DG_RC"
dg_expect_eq "systemd-analyze verify daxguard-watch.service: says nothing" "" "$DG_ERR"
for k in Type=notify Restart=on-failure WatchdogSec= NotifyAccess=main \
	"ExecReload=/bin/kill -HUP \$MAINPID" CapabilityBoundingSet=; do
	grep -q "^$k" "$UNIT" && dg_ok "the unit has $k" || dg_notok "the unit lacks $k"
done
for cap in CAP_SYS_ADMIN CAP_KILL; do
	grep -q "^CapabilityBoundingSet=.*\\b$cap\\b" "$UNIT" && dg_ok "it keeps $cap" ||
		dg_notok "the bounding set drops $cap"
done
# the options that would hide /dev/kmsg or give the service its own mounts
for k in ProtectKernelLogs PrivateDevices ProtectSystem PrivateTmp ProtectProc; do
	grep -q "^$k=" "$UNIT" && dg_notok "the unit sets $k=, which takes what daxguard needs" ||
		dg_ok "no $k="
done

# verify warns about a bad value (exit 0) and fails on a missing program:
# both must show here, or the checks above prove nothing
sed 's/^Type=notify/Type=sometimes/' "$DG_TMP/daxguard-watch.service" >"$DG_TMP/broken.service"
dg_run systemd-analyze verify --man=no "$DG_TMP/broken.service"
dg_assert_match "verify speaks up about Type=sometimes" "Failed to parse service type" "$DG_ERR"
sed "s|^ExecStart=.*|ExecStart=$DG_TMP/nothing watch|" "$DG_TMP/daxguard-watch.service" \
	>"$DG_TMP/broken.service"
dg_run systemd-analyze verify --man=no "$DG_TMP/broken.service"
dg_expect_ne "verify fails a unit whose program is missing" 0 "$DG_RC"
dg_done
