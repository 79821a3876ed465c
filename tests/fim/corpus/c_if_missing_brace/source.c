int clamp(int x, int lo, int hi)
{
    if (x < lo) {
        █
    return x;
}
