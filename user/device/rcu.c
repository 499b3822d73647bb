// SPDX-License-Identifier: MIT
/* liburcu-qsbr behind the four calls the workers and the agent make. */
#include "device/rcu.h"

#include <urcu/urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define WGX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WGX_TSAN 1
#endif
#endif

#ifdef WGX_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* One sync object stands for "every quiescent state so far". */
static char grace_token;
#define qs_release() __tsan_release(&grace_token)
#define gp_acquire() __tsan_acquire(&grace_token)
#else
#define qs_release() ((void)0)
#define gp_acquire() ((void)0)
#endif

void wgx_rcu_register(void)
{
	urcu_qsbr_register_thread();
}

void wgx_rcu_unregister(void)
{
	qs_release();
	urcu_qsbr_unregister_thread();
}

void wgx_rcu_quiescent(void)
{
	qs_release();
	urcu_qsbr_quiescent_state();
}

void wgx_rcu_offline(void)
{
	qs_release();
	urcu_qsbr_thread_offline();
}

void wgx_rcu_online(void)
{
	urcu_qsbr_thread_online();
}

void wgx_rcu_synchronize(void)
{
	urcu_qsbr_synchronize_rcu();
	gp_acquire();
}
