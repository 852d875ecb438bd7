// Records the compiler version so software_info can report what built the core.
fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Ok(out) = std::process::Command::new(rustc).arg("--version").output() {
        let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("cargo:rustc-env=DROS_RUSTC_VERSION={v}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
