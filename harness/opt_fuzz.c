// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for every parser of user input on the command line: option values
 * (sizes, durations, fractions, CPU lists, memory policies) and whole argument vectors.
 * The input is split at NUL bytes into argv words. Nothing may crash, hang or leak, and
 * every refusal must come with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "opt.h"
#include "topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[33], *pos[8], err[512];
	int argc = 1, npos, cpus[64], n;
	size_t sizes[16];
	double d;
	struct ipcb_config cfg;
	struct ipcb_mem_req req;

	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;

	/* each parser on the whole input as one value */
	(void)ipcb_parse_sizes(buf, sizes, 16, &n);
	(void)ipcb_parse_seconds(buf, &d);
	(void)ipcb_cpulist_parse(buf, cpus, 64);
	(void)ipcb_mem_parse(buf, &req);

	/* and as an argument vector */
	argv[0] = (char *)"ipcbench";
	for (char *p = buf; p < buf + size && argc < 32; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	ipcb_config_defaults(&cfg);
	err[0] = 0;
	if (ipcb_opt_parse(&cfg, argc, argv, 1, pos, 8, &npos, err, sizeof(err)) < 0 && !err[0])
		abort();   /* a refusal without a message */
	free(buf);
	return 0;
}
