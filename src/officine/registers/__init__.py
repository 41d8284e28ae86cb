"""The pharmacy's registers (GDPR processing register, breach register, destruction log, CPS/e-CPS
cards, providers and contracts) and the IT provider's signed questionnaire."""
