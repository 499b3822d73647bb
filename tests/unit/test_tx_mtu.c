// SPDX-License-Identifier: MIT
/*
 * The send path's buffers against the MTU: a job's send area holds a
 * full batch at the usual MTUs, and stays near a batch's reads at an MTU
 * of 64 KiB (which `ip link set mtu 65535` allows on a TUN).
 */
#include "test.h"

#include "datapath/tx.h"

static void test_out_cap(void)
{
	struct wgx_tx_job *small = wgx_tx_job_new(1420);
	struct wgx_tx_job *jumbo = wgx_tx_job_new(9000);
	struct wgx_tx_job *huge = wgx_tx_job_new(65535);

	CHECK(small && jumbo && huge);
	if (small && jumbo && huge) {
		/* Unchanged where it always was: a batch of full packets. */
		CHECK(small->out_cap == (size_t)WGX_TX_MAX * (1420 + 64));
		/* Bounded by the reads once that would be more. */
		CHECK(jumbo->out_cap <= (size_t)WGX_TX_AREA + WGX_TX_MAX * 256);
		CHECK(huge->out_cap == jumbo->out_cap);
		/* One 64 KiB packet always fits an empty batch. */
		CHECK(huge->out_cap >= 65535 + 64);
	}
	wgx_tx_job_free(small);
	wgx_tx_job_free(jumbo);
	wgx_tx_job_free(huge);
}

static const struct wgx_test tx_mtu_tests[] = {
	{ "tx: send area sized for the MTU, bounded at 64 KiB", test_out_cap },
};
WGX_SUITE(tx_mtu_tests)
