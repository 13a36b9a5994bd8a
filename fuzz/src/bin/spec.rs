//! AFL++ target: `locust_planton::invariants::spec_holds` on every input.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        locust_planton::invariants::spec_holds(data);
    });
}
