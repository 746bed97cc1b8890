# The coverbridge operator image.
#
#   docker build -t ghcr.io/coverbridge/coverbridge:0.1.0 .
#
# The binary links glibc and libgcc_s dynamically (rustls' aws-lc-rs crypto is compiled in), so
# the runtime image is distroless "cc": glibc, libgcc, CA certificates, no shell, user 65532.
#
# Built with --no-default-features: the image carries no simulator (coverbridge-sandbox) and none
# of its test credentials; `coverbridge sandbox` and `coverbridge demo` exit 2 in it.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src

# Dependencies first, against stub sources: this layer is rebuilt only when Cargo.toml or
# Cargo.lock change, not on every source edit.
# The workspace names the sandbox crate, so its manifest (and stub sources) must be there even
# though the operator build does not compile it.
COPY Cargo.toml Cargo.lock ./
COPY sandbox/Cargo.toml ./sandbox/
RUN mkdir src sandbox/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs sandbox/src/lib.rs \
    && echo 'fn main() {}' > sandbox/src/main.rs \
    && cargo build --release --locked --no-default-features \
    && rm -rf src

# The sources; examples/ too, because the binary embeds the WorkMarket webhook template.
COPY src ./src
COPY examples ./examples
# COPY keeps the files' own times, which may be older than the stub build; touch them so cargo
# rebuilds the crate itself.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --no-default-features \
    && cp target/release/coverbridge /coverbridge

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /coverbridge /usr/local/bin/coverbridge
USER 65532:65532
# Webhooks; metrics and probes (the binary's defaults).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/coverbridge"]
CMD ["run", "--log-format", "json"]
