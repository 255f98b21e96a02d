pub mod wheel;

fn main() {}
