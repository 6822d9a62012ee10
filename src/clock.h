/* SPDX-License-Identifier: MIT */
/* Time in sluice: nanoseconds of a monotonic clock, passed in by the caller
 * (the engine never reads a clock). The one place these units are named. */
#ifndef SLUICE_CLOCK_H
#define SLUICE_CLOCK_H

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL

#endif
