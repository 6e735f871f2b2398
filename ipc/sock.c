// SPDX-License-Identifier: MIT
/* Shared socket core for the socket transports (placeholder). */
#include "sock.h"

int ipcb_sock_placeholder_(void);
int ipcb_sock_placeholder_(void)
{
	return 0;
}
