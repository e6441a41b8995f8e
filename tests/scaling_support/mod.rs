//! Shared by the scaling tests (issue 19): work is counted, never timed.

/// Runs `work` at `n` and `10 n` and asserts that ten times the input (`what`) costs at most
/// fifteen times the work.
pub fn assert_linear(what: &str, n: usize, work: impl Fn(usize) -> u64) {
    let small = work(n);
    let large = work(10 * n);
    assert!(small > 0, "the work is counted");
    let ratio = large as f64 / small as f64;
    eprintln!("work {small} -> {large} ({ratio:.1}x)");
    assert!(
        large <= 15 * small,
        "10x the {what} cost {large} / {small} = {ratio:.1}x the work"
    );
}
