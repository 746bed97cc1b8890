# The coverbridge operator image.
#
#   docker build -t ghcr.io/coverbridge/coverbridge:0.1.0 .
#
# The binary links glibc and libgcc_s dynamically (rustls' aws-lc-rs crypto is compiled in), so
# the runtime image is distroless "cc": glibc, libgcc, CA certificates, no shell, user 65532.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src

# Dependencies first, against stub sources: this layer is rebuilt only when Cargo.toml or
# Cargo.lock change, not on every source edit.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The sources; examples/ too, because the binary embeds the WorkMarket webhook template.
COPY src ./src
COPY examples ./examples
# COPY keeps the files' own times, which may be older than the stub build; touch them so cargo
# rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/coverbridge /coverbridge

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /coverbridge /usr/local/bin/coverbridge
USER 65532:65532
# Webhooks; metrics and probes (the binary's defaults).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/coverbridge"]
CMD ["run", "--log-format", "json"]
