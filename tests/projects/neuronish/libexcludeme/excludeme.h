#ifndef EXCLUDEME_H
#define EXCLUDEME_H

/* libexcludeme.so.1: a second external, non-whitelisted library. Tests repair with
 * `--exclude libexcludeme.so.1`, so it must stay out of the wheel and be found at run time. */
int excludeme_answer(void);

#endif
