// Records what built the core (compiler, commit, time) so pub/software_info can report it.
use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = run(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DROS_RUSTC_VERSION={version}");
    let commit = run("git", &["rev-parse", "--short=8", "HEAD"]).unwrap_or_else(|| "00000000".into());
    println!("cargo:rustc-env=DROS_GIT_COMMIT={commit}");
    let built = run("date", &["-u", "+%Y-%m-%d %H:%M:%S"]).unwrap_or_default();
    println!("cargo:rustc-env=DROS_BUILD_TIME={built}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src");
}
