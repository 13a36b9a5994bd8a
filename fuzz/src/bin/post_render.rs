//! AFL++ target: `locust_planton::invariants::post_render_holds` on every input.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        locust_planton::invariants::post_render_holds(data);
    });
}
