//! External tools some tests need (tshark, editcap, prlimit): present, or skipped on a
//! developer's machine with a message, but never skipped quietly in CI (`CI` set), where a
//! missing tool is a broken set-up and the test fails.

use std::process::{Command, Stdio};

/// True when `tool` runs (`tool <probe_arg>`). When it does not and the `CI` environment
/// variable is set, panics naming the tool and the package that brings it.
pub fn require(tool: &str, probe_arg: &str, package: &str) -> bool {
    let present = Command::new(tool)
        .arg(probe_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing but CI is set: install it (apt-get install {package}); .ci/run does"
        );
        eprintln!("{tool} not installed ({package}): test skipped outside CI");
    }
    present
}

/// tshark (Debian package `tshark`).
#[allow(dead_code)]
pub fn tshark() -> bool {
    require("tshark", "--version", "tshark")
}

/// editcap (Debian package `wireshark-common`, which `tshark` pulls in).
#[allow(dead_code)]
pub fn editcap() -> bool {
    require("editcap", "-h", "wireshark-common")
}

/// prlimit (Debian package `util-linux`).
#[allow(dead_code)]
pub fn prlimit() -> bool {
    require("prlimit", "--version", "util-linux")
}
