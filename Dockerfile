# syntax=docker/dockerfile:1.7
# EatFit24: one binary, every role a subcommand. Multi-stage: the builder compiles the same
# release profile as `cargo build --release -p eatfit` (Cargo.toml [profile.release]: thin LTO,
# stripped), the runtime image holds the binary, CA roots, curl for healthchecks and the
# PostgreSQL client tools for `eatfit admin backup`.
#   docker build -t eatfit:latest .
#   docker compose up -d

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
# Dependencies first, so a source change does not rebuild them (cache mounts keep the registry
# and target folder between builds).
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p eatfit \
    && cp target/release/eatfit /usr/local/bin/eatfit

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl postgresql-client tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 eatfit \
    && useradd --system --uid 10001 --gid eatfit --home-dir /var/lib/eatfit --create-home eatfit
COPY --from=builder /usr/local/bin/eatfit /usr/local/bin/eatfit
USER eatfit:eatfit
WORKDIR /var/lib/eatfit
ENV EATFIT_LISTEN=0.0.0.0:8000 \
    EATFIT_METRICS_ADDR=0.0.0.0:9464 \
    EATFIT_MEDIA_DIR=/var/lib/eatfit/media \
    LOG_FORMAT=json
EXPOSE 8000 9464
# Every role answers /livez and /readyz on the internal listener.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:9464/readyz > /dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/eatfit"]
CMD ["serve"]
