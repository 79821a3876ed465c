#include <stdio.h>

int main(void)
{
    int count = 3;
    printf("%d items\n", █);
    return 0;
}
