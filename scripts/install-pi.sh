#!/usr/bin/env bash
# Install Jiayi (家医) as a system service on Raspberry Pi OS Bookworm (arm64) or Debian 12.
#
#   sudo scripts/install-pi.sh --device respeaker-2mic --model /media/usb/vosk-model-small-en-us-0.15.zip
#   sudo scripts/install-pi.sh --uninstall            # keeps /etc/jiayi and /var/lib/jiayi
#   sudo scripts/install-pi.sh --uninstall --purge    # removes settings, outbox, models and the user
#   scripts/install-pi.sh --dry-run ...               # print every command, run nothing
#
# What it does: apt packages; the `jiayi` system user (groups audio, dialout, gpio); a copy of
# the source in /opt/jiayi/src and a venv in /opt/jiayi/venv; the systemd units; config.yaml to
# /etc/jiayi/ (only if absent); the device profile to /etc/jiayi/device.yaml (mixer levels
# applied and stored); a speech model; then enables and starts jiayi.service.
# Guide: docs/operations.md
set -euo pipefail
umask 022

PREFIX=/opt/jiayi
SRC_DIR="$PREFIX/src"
VENV="$PREFIX/venv"
ETC_DIR=/etc/jiayi
STATE_DIR=/var/lib/jiayi
UNIT_DIR=/etc/systemd/system
SERVICE_USER=jiayi
SERVICE_GROUPS=(audio dialout gpio)
APT_PACKAGES=(python3 python3-venv python3-dev build-essential patch rsync espeak-ng libespeak-ng1
  libportaudio2 alsa-utils sox libsox-fmt-all gpiod)
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DRY_RUN=0
UNINSTALL=0
PURGE=0
DEVICE=""
MODEL=""
WITH_BACKEND=0
START=1

usage() {
  cat <<EOF
Usage: install-pi.sh [--device NAME] [--model PATH|NAME] [--with-backend] [--no-start] [--dry-run]
       install-pi.sh --uninstall [--purge] [--dry-run]

  --device NAME    device profile: $(profiles)
  --model X        speech model: a folder or .zip (offline) or a model name (downloads)
  --with-backend   also install jiayi-backend.service (reference backend, needs mosquitto)
  --no-start       enable the service but do not start it now
  --dry-run        print every command without running anything
  --uninstall      stop and remove the service and /opt/jiayi (keeps $ETC_DIR and $STATE_DIR)
  --purge          with --uninstall: also remove $ETC_DIR, $STATE_DIR and the $SERVICE_USER user
EOF
}

profiles() {
  local names=() f
  for f in "$SOURCE"/device/*.yaml; do
    [[ -e "$f" ]] && names+=("$(basename "$f" .yaml)")
  done
  local IFS='|'
  echo "${names[*]}"
}

die() {
  echo "install-pi.sh: $*" >&2
  exit 2
}

# Every change to the system goes through run: printed, and executed unless --dry-run.
run() {
  local arg line="+"
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then
      line+=" $arg"
    else
      line+=" $(printf '%q' "$arg")"
    fi
  done
  echo "$line"
  if [[ $DRY_RUN -eq 0 ]]; then
    "$@"
  fi
}

as_service_user() {
  run runuser -u "$SERVICE_USER" -- env "STATE_DIRECTORY=$STATE_DIR" "JIAYI_CONFIG=$ETC_DIR/config.yaml" "$@"
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --device) DEVICE="${2:?--device needs a name}"; shift 2 ;;
      --model) MODEL="${2:?--model needs a path or name}"; shift 2 ;;
      --with-backend) WITH_BACKEND=1; shift ;;
      --no-start) START=0; shift ;;
      --dry-run) DRY_RUN=1; shift ;;
      --uninstall) UNINSTALL=1; shift ;;
      --purge) PURGE=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
  done
  if [[ $PURGE -eq 1 && $UNINSTALL -eq 0 ]]; then
    die "--purge only goes with --uninstall"
  fi
  if [[ -n "$DEVICE" && ! -f "$SOURCE/device/$DEVICE.yaml" ]]; then
    die "unknown device profile '$DEVICE' (known: $(profiles))"
  fi
  if [[ $DRY_RUN -eq 0 && $(id -u) -ne 0 ]]; then
    die "run as root (sudo), or with --dry-run to see what would be done"
  fi
}

install_packages() {
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
}

create_user() {
  local group
  for group in "${SERVICE_GROUPS[@]}"; do
    if ! getent group "$group" >/dev/null; then
      run groupadd --system "$group"
    fi
  done
  local groups_csv
  groups_csv="$(IFS=,; echo "${SERVICE_GROUPS[*]}")"
  if id -u "$SERVICE_USER" >/dev/null 2>&1; then
    run usermod --append --groups "$groups_csv" "$SERVICE_USER"
  else
    run useradd --system --user-group --groups "$groups_csv" --home-dir "$STATE_DIR" \
      --no-create-home --shell /usr/sbin/nologin --comment "Jiayi voice assistant" "$SERVICE_USER"
  fi
}

install_software() {
  run install -d -m 0755 "$PREFIX"
  run rsync -a --delete --exclude .git --exclude .venv --exclude '*.egg-info' \
    --exclude __pycache__ --exclude .pytest_cache --exclude .ruff_cache "$SOURCE/" "$SRC_DIR/"
  if [[ ! -x "$VENV/bin/python" ]]; then
    # The distribution's Python (apt), never a per-user one that the service user cannot run.
    run /usr/bin/python3 -m venv "$VENV"
  fi
  run "$VENV/bin/pip" install --quiet --upgrade pip
  run "$VENV/bin/pip" install --quiet "$SRC_DIR"
  # pocketsphinx rebuilt with the project's patches (less CPU, the same sentences); PyPI's wheel
  # stays when the build fails.
  run bash "$SRC_DIR/scripts/pocketsphinx-patched.sh" "$VENV/bin/pip" ||
    echo "warning: patched pocketsphinx not built; PyPI's wheel stays (same readings, more CPU)" >&2
  run ln -sf "$VENV/bin/jiayi" /usr/local/bin/jiayi
}

install_config() {
  run install -d -m 0750 -o root -g "$SERVICE_USER" "$ETC_DIR"
  run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR"
  if [[ -e "$ETC_DIR/config.yaml" ]]; then
    echo "keeping the existing $ETC_DIR/config.yaml"
  else
    run install -m 0640 -o root -g "$SERVICE_USER" "$SOURCE/config.yaml" "$ETC_DIR/config.yaml"
  fi
  if [[ -n "$DEVICE" ]]; then
    run install -m 0640 -o root -g "$SERVICE_USER" "$SOURCE/device/$DEVICE.yaml" "$ETC_DIR/device.yaml"
    # A mixer control missing on this card is reported, not fatal.
    run "$VENV/bin/jiayi" device apply "$ETC_DIR/device.yaml" || echo "some mixer settings were not applied"
    run alsactl store || echo "could not store the mixer levels (alsactl)"
  fi
}

install_model() {
  if [[ -z "$MODEL" ]]; then
    return
  fi
  if [[ -e "$MODEL" ]]; then
    as_service_user "$VENV/bin/jiayi" model install --from "$(realpath "$MODEL")"
  else
    as_service_user "$VENV/bin/jiayi" model install "$MODEL"
  fi
}

install_units() {
  run install -m 0644 "$SOURCE/systemd/jiayi.service" "$UNIT_DIR/jiayi.service"
  if [[ $WITH_BACKEND -eq 1 ]]; then
    run install -m 0644 "$SOURCE/systemd/jiayi-backend.service" "$UNIT_DIR/jiayi-backend.service"
  fi
  run systemctl daemon-reload
  local units=(jiayi.service)
  if [[ $WITH_BACKEND -eq 1 ]]; then
    units+=(jiayi-backend.service)
  fi
  if [[ $START -eq 1 ]]; then
    run systemctl enable --now "${units[@]}"
  else
    run systemctl enable "${units[@]}"
  fi
}

uninstall() {
  run systemctl disable --now jiayi.service jiayi-backend.service || true
  run rm -f "$UNIT_DIR/jiayi.service" "$UNIT_DIR/jiayi-backend.service" /usr/local/bin/jiayi
  run systemctl daemon-reload
  run rm -rf "$PREFIX"
  if [[ $PURGE -eq 1 ]]; then
    run rm -rf "$ETC_DIR" "$STATE_DIR" /var/lib/jiayi-backend /var/lib/private/jiayi-backend
    if id -u "$SERVICE_USER" >/dev/null 2>&1; then
      run userdel "$SERVICE_USER"
    fi
  else
    echo "kept $ETC_DIR (settings) and $STATE_DIR (outbox, schedules, models); --purge removes them"
  fi
}

main() {
  parse_args "$@"
  if [[ $UNINSTALL -eq 1 ]]; then
    uninstall
    return
  fi
  install_packages
  create_user
  install_software
  install_config
  install_model
  install_units
  echo "installed. Check it with: jiayi status   (logs: journalctl -u jiayi -f)"
}

main "$@"
