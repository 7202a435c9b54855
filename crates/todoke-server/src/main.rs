fn main() -> std::process::ExitCode {
    todoke_server::cli::main()
}
