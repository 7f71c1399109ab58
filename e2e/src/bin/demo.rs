//! `make demo`: submits the sample brief to the running stack and shows the render.
fn main() {
    eprintln!("the demo client arrives with the render job actor");
}
