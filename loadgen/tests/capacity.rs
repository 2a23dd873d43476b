//! The capacity command as a user runs it: an invalid profile is refused naming its field, and
//! a key over 80% of its limit makes the command exit non-zero naming the key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn capacity(profile: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_starling-load")).current_dir(root()).arg("capacity").arg("--profile").arg(profile).args(extra).output().unwrap()
}

fn profile_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("loadgen/profiles/pilot.toml")).unwrap();
    assert!(text.contains(from), "pilot.toml has no {from:?}");
    let path = dir.join("profile.toml");
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

#[test]
fn an_invalid_profile_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with(dir.path(), "home_reads = 30", "home_reads = -30");
    let out = capacity(&profile, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("rates.home_reads"), "{stderr}");
}

#[test]
fn a_key_over_80_percent_of_its_limit_exits_non_zero_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // An account acting a million times a second overloads its own partition whatever the layout.
    let profile = profile_with(dir.path(), "busiest_account_actions = 1", "busiest_account_actions = 1_000_000");
    let report = dir.path().join("report.md");
    let out = capacity(&profile, &["--users", "4", "--actions", "20", "--report", report.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("key `A#{id}` would use"), "{stderr}");
    let markdown = std::fs::read_to_string(&report).unwrap();
    assert!(markdown.contains("**does not fit**"), "{markdown}");
    assert!(markdown.contains("`A#{id}`"), "{markdown}");
}

#[test]
fn the_pilot_fits() {
    let out = capacity(&root().join("loadgen/profiles/pilot.toml"), &["--users", "4", "--actions", "20"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("`pilot` **fits**"), "{stdout}");
}

#[test]
fn a_report_only_profile_over_its_limits_does_not_fail_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let profile = profile_with(dir.path(), "busiest_account_actions = 1", "busiest_account_actions = 1_000_000");
    let out = capacity(&profile, &["--users", "4", "--actions", "20", "--report-only", "pilot"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("key `A#{id}` would use") && stderr.contains("[report only]"), "{stderr}");
}
