# syntax=docker/dockerfile:1
#
# ecr-renew container image: one static binary and the CAs (a hashed
# directory and the bundle), nothing else.
#
#   docker build -t ecr-renew:0.1.0 --build-arg VERSION=0.1.0 \
#                --build-arg REVISION=$(git rev-parse HEAD) .
#
# NOT BUILT WHERE IT WAS WRITTEN: the development machine has no Docker
# engine. What was verified there instead, on Debian 12 as root:
#   * the build stage emulated: `debootstrap --variant=minbase bookworm`
#     with debian:12's /etc/apt/sources.list.d/debian.sources, the files
#     .dockerignore lets through copied in the same two steps, each RUN line
#     run in that chroot: apt-get installs everything from nothing, builds
#     libcurl and libmicrohttpd from `apt-get source curl libmicrohttpd`,
#     reuses both in the second RUN, and leaves a stripped, fully static
#     build-static/ecr-renew (no PT_INTERP, no DT_NEEDED; ldd: "not a
#     dynamic executable", no GnuTLS inside) and the CA bundle;
#   * tests/integration/test_static_build.py, on that binary and on the local
#     one: `ecr-renew login` as uid 65532 in a chroot holding only the
#     binary, a CA bundle, /etc/hosts and /etc/resolv.conf, against the
#     moto-based AWS fake reached by host name (via /etc/hosts, and via a DNS
#     server named in resolv.conf), over HTTP and over HTTPS trusted through
#     /etc/ssl/certs/ca-certificates.crt, printing the same password as the
#     dynamic build; and the CMD, bare `sync`, in-cluster against the
#     Kubernetes API stand-in. That chroot is what `scratch` gives the
#     binary, minus the /dev, /proc, /etc/hosts and /etc/resolv.conf the
#     container runtime adds.
# Not verified: this file's syntax and layer behaviour, the debian:12 image
# of the day (the script needs only its apt sources and keyring), and other
# architectures than amd64 (nothing in the script is amd64-specific).

# --- build: debian:12, the same script a developer runs ---------------------
FROM debian:12 AS build
WORKDIR /src
# First only the script: packages, libcurl and libmicrohttpd (from Debian's
# curl and libmicrohttpd sources) land in a layer that changes of the
# program's source do not invalidate.
COPY scripts/build-static scripts/build-static
RUN scripts/build-static --deps-only
# Then the program. .dockerignore keeps build dirs out, so the cached
# build-static/deps from the layer above is reused (the script checks its
# stamps: same Debian source versions and flags) and only ecr-renew is built.
COPY . .
RUN scripts/build-static

# --- final: scratch ----------------------------------------------------------
FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="ecr-renew" \
      org.opencontainers.image.description="Gets Amazon ECR authorization tokens and writes Kubernetes image pull secrets" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="scratch"
# The hashed trust directory (read lazily; AWS calls use it when no
# AWS_CA_BUNDLE, SSL_CERT_FILE or SSL_CERT_DIR is set) and the bundle.
COPY --from=build /src/build-static/certs/ /etc/ssl/certs/
COPY --from=build /src/build-static/ecr-renew /ecr-renew
USER 65532:65532
ENTRYPOINT ["/ecr-renew"]
CMD ["sync"]
