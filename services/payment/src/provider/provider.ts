/**
 * What the payment service needs of a payment provider, whoever it is. The Stripe-shaped
 * sandbox (services/provider) and Stripe itself are one adapter (stripe.ts); another provider
 * is one more file behind this interface.
 *
 * Every call carries a key of the caller's, the same for every try of one step: the provider
 * answers a key it has seen with its first answer, so a call whose outcome is unknown (it timed
 * out, the answer was lost) is settled by making it again, never by charging again.
 */
export interface PaymentProvider {
  /** Holds the amount on the card (authorised, not yet taken), or says it was declined. */
  authorize(request: AuthorizeRequest, options: ProviderCallOptions): Promise<Authorization>;
  /** Takes what was held. One already taken is not an error. */
  capture(request: { key: string; providerPaymentId: string }, options: ProviderCallOptions): Promise<void>;
  /** Releases what was held; nothing is charged. One already released is not an error. */
  void(request: { key: string; providerPaymentId: string }, options: ProviderCallOptions): Promise<void>;
  /** Gives back what was taken. One already given back is not an error. */
  refund(request: { key: string; providerPaymentId: string; amountCents: number }, options: ProviderCallOptions): Promise<void>;
  /** A webhook's event, once its signature is checked; throws when the provider did not sign it. */
  eventOf(body: string, signature: string | undefined): ProviderEvent;
}

export interface AuthorizeRequest {
  key: string;
  paymentId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  method: string;
}

export type Authorization =
  | { outcome: 'authorized'; providerPaymentId: string; brand: string | null; last4: string | null }
  | { outcome: 'declined'; providerPaymentId: string | null; declineCode: string; brand: string | null; last4: string | null };

export interface ProviderCallOptions {
  signal: AbortSignal;
  requestId?: string | undefined;
}

/** A provider's event, in the payment service's words; `other` for one it does not act on. */
export interface ProviderEvent {
  id: string;
  kind: 'authorized' | 'declined' | 'captured' | 'voided' | 'refunded' | 'other';
  providerPaymentId: string | undefined;
  /** Ours, as the provider keeps it in the payment's metadata. */
  paymentId: string | undefined;
  declineCode?: string | undefined;
  /** A refund's own amount: one of several, perhaps (a partial refund made at the provider's dashboard). */
  refundedCents?: number | undefined;
  brand?: string | null | undefined;
  last4?: string | null | undefined;
}
