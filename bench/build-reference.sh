#!/usr/bin/env bash
# Builds the reference image of shared/docs/BENCHMARKS.md without any
# registry: a debootstrap'd Debian bookworm minbase plus five layers made
# with umoci, then exported with skopeo as an OCI layout, a docker-archive
# and (when a Docker Engine is reachable) into the engine as vigil-ref:latest.
#
#   bench/build-reference.sh [OUTDIR]     (default: bench/out)
#
# Needs root, debootstrap, umoci, skopeo and a reachable Debian mirror.
# Re-running reuses the debootstrap root and skips finished outputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-$here/out}
fixtures=${VIGIL_FIXTURES:-$repo/../shared/fixtures}
mkdir -p "$out"
out=$(cd "$out" && pwd)
minbase=$out/minbase
oci=$out/reference-oci
archive=$out/reference.docker.tar

for tool in debootstrap umoci skopeo; do
  command -v $tool >/dev/null || { echo "build-reference: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
[ -d "$fixtures/apps/node-demo-api" ] || { echo "build-reference: fixtures not found at $fixtures (set VIGIL_FIXTURES)" >&2; exit 1; }

if [ ! -f "$minbase/.done" ]; then
  rm -rf "$minbase"
  echo "== debootstrap --variant=minbase bookworm" >&2
  debootstrap --variant=minbase bookworm "$minbase" http://deb.debian.org/debian >&2
  touch "$minbase/.done"
fi

if [ ! -f "$oci/.done" ]; then
  rm -rf "$oci" "$out/bundle"
  umoci init --layout "$oci"
  umoci new --image "$oci:ref"
  umoci unpack --image "$oci:ref" "$out/bundle" >/dev/null
  root=$out/bundle/rootfs
  step() { umoci repack --refresh-bundle --image "$oci:ref" --history.created_by "$1" "$out/bundle" >/dev/null; }

  echo "== layer 1: the debootstrap root" >&2
  tar -C "$minbase" --exclude=./.done -cf - . | tar -C "$root" -xpf -
  step "debootstrap --variant=minbase bookworm"

  echo "== layer 2: apt-get install" >&2
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  trap 'umount "$root/proc" 2>/dev/null || true' EXIT
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c '
    apt-get update -q && apt-get install -y -q --no-install-recommends openssl curl ca-certificates python3 \
      python3-requests python3-urllib3 python3-jinja2 python3-yaml liblog4j2-java libjackson2-databind-java \
      gcc make git sudo && apt-get clean && rm -rf /var/lib/apt/lists/*' >&2
  umount "$root/proc"; trap - EXIT
  : > "$root/etc/resolv.conf"
  step "RUN apt-get install --no-install-recommends openssl curl ca-certificates python3 python3-requests python3-urllib3 python3-jinja2 python3-yaml liblog4j2-java libjackson2-databind-java gcc make git sudo && rm -rf /var/lib/apt/lists/*"

  echo "== layer 3: COPY the node app" >&2
  mkdir -p "$root/app"
  cp -a "$fixtures/apps/node-demo-api/." "$root/app/"
  step "COPY node-demo-api /app"

  echo "== layer 4: COPY the Go binary and a credentials file" >&2
  install -m 0755 "$fixtures/apps/go-demo-worker/demo-worker.bin" "$root/usr/local/bin/demo-worker"
  mkdir -p "$root/root/.aws"
  printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' > "$root/root/.aws/credentials"
  step "COPY demo-worker.bin /usr/local/bin/demo-worker; COPY credentials /root/.aws/credentials"

  echo "== layer 5: remove minimist, purge sudo" >&2
  rm -rf "$root/app/node_modules/minimist"
  chroot "$root" /usr/bin/env SUDO_FORCE_REMOVE=yes dpkg --purge sudo >&2
  step "RUN rm -rf /app/node_modules/minimist && dpkg --purge sudo"

  umoci config --image "$oci:ref" --config.env "DB_PASSWORD=hunter2-not-a-real-password" \
    --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --config.exposedports 8080/tcp --config.workingdir /app --config.cmd node --config.cmd server.js \
    --history.created_by 'ENV DB_PASSWORD=... EXPOSE 8080 CMD ["node","server.js"]'
  umoci gc --layout "$oci"
  rm -rf "$out/bundle"
  touch "$oci/.done"
fi

if [ ! -f "$archive" ]; then
  echo "== docker-archive" >&2
  skopeo copy --quiet "oci:$oci:ref" "docker-archive:$archive.tmp:vigil-ref:latest" && mv "$archive.tmp" "$archive"
fi

if [ -S /var/run/docker.sock ] && command -v docker >/dev/null; then
  if ! docker image inspect vigil-ref:latest >/dev/null 2>&1; then
    echo "== docker load" >&2
    docker load -q -i "$archive" >&2
  fi
fi
echo "reference image: oci-dir:$oci:ref  docker-archive:$archive  docker:vigil-ref:latest" >&2
