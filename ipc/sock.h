/* SPDX-License-Identifier: MIT */
/* Shared socket core for the socket transports (placeholder). */
#ifndef IPCB_SOCK_H
#define IPCB_SOCK_H
#endif
