/* The smallest useful command: exits 0 at once, writes nothing. Sandbox start benchmarks run
 * it so that what they measure is the start and reaping, not the work. */
int main(void)
{
    return 0;
}
