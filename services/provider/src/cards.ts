/**
 * The test payment methods, with Stripe's names and outcomes: a card that pays, and the cards
 * that are declined and why. The provider holds no card numbers: a payment method is a name.
 */
export type CardOutcome =
  | { ok: true; brand: string; last4: string }
  | { ok: false; brand: string; last4: string; declineCode: 'generic_decline' | 'insufficient_funds'; message: string };

const cards: Readonly<Record<string, CardOutcome>> = {
  pm_card_visa: { ok: true, brand: 'visa', last4: '4242' },
  pm_card_mastercard: { ok: true, brand: 'mastercard', last4: '4444' },
  pm_card_chargeDeclined: { ok: false, brand: 'visa', last4: '0002', declineCode: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { ok: false, brand: 'visa', last4: '9995', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
};

/** What charging this payment method does; undefined for one the provider does not know. */
export function cardOutcome(paymentMethod: string): CardOutcome | undefined {
  return Object.hasOwn(cards, paymentMethod) ? cards[paymentMethod] : undefined;
}
