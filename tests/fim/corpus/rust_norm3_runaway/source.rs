pub fn norm(v: &[f64]) -> f64 {
    dot(v, v).sqrt()
}

pub fn norm2(v: &[f64]) -> f64 {
    █
}
