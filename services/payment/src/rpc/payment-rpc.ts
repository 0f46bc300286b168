import type { ServiceImpl } from '@connectrpc/connect';
import { type PaymentService, PaymentStatus } from '@baton/contracts/payment/v1';
import { validateInput } from '@baton/kit/rpc';
import {
  authorizePayment, capturePayment, findPayment, paymentView, refundPayment, voidPayment, type Payments, type PaymentStatus as Status,
} from '../payments/payments.ts';
import { authorizeBody, orderParams } from '../routes/payment-schemas.ts';

const statusOnTheWire: Readonly<Record<Status, PaymentStatus>> = {
  authorizing: PaymentStatus.AUTHORIZING,
  authorized: PaymentStatus.AUTHORIZED,
  declined: PaymentStatus.DECLINED,
  captured: PaymentStatus.CAPTURED,
  voided: PaymentStatus.VOIDED,
  refunded: PaymentStatus.REFUNDED,
};

function onTheWire(payment: Parameters<typeof paymentView>[0]) {
  const view = paymentView(payment);
  return {
    payment: {
      orderId: view.orderId, status: statusOnTheWire[view.status], amountCents: view.amountCents, currency: view.currency,
      cardBrand: view.card?.brand ?? '', cardLast4: view.card?.last4 ?? '', declineCode: view.declineCode ?? '', refundedCents: view.refundedCents,
    },
  };
}

/**
 * `baton.payment.v1.PaymentService` over gRPC: the same steps and input rules as the HTTP
 * routes, the kit's signal passed down to the provider's calls and the database.
 */
export function createPaymentRpc(payments: Payments): ServiceImpl<typeof PaymentService> {
  const orderOf = (request: { orderId: string }) => validateInput(orderParams, { orderId: request.orderId }).orderId;
  return {
    async authorize(request, { signal }) {
      const input = validateInput(authorizeBody, { amountCents: request.amountCents, currency: request.currency, method: request.method });
      return onTheWire(await authorizePayment(payments, { orderId: orderOf(request), ...input }, { signal }));
    },
    async capture(request, { signal }) { return onTheWire(await capturePayment(payments, orderOf(request), { signal })); },
    async void(request, { signal }) { return onTheWire(await voidPayment(payments, orderOf(request), { signal })); },
    async refund(request, { signal }) { return onTheWire(await refundPayment(payments, orderOf(request), { signal })); },
    async getPayment(request, { signal }) { return onTheWire(await findPayment(payments.db, orderOf(request), { signal })); },
  };
}
