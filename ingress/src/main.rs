//! The `ingress` binary: see `ingress --help` and docs/ingress.md.

fn main() -> std::process::ExitCode {
    ingress::cli::main()
}
