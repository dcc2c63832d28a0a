#include <string.h>

#include "rp_embedded.h"

const rp_embedded_file *rp_embedded_find(const char *name)
{
    for (const rp_embedded_file *f = rp_embedded_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}
