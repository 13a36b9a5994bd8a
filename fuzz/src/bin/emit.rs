//! AFL++ target: `locust_planton::invariants::emit_round_trip_holds` on every input.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        locust_planton::invariants::emit_round_trip_holds(data);
    });
}
