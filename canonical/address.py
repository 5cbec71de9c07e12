"""Postal address and customer, as every channel and partner needs them."""

from pydantic import BaseModel, Field, computed_field

from canonical.customer import MarketingConsent, identity_key
from canonical.customer import customer_ref as reference_of


class Address(BaseModel):
    name: str = ""
    company: str | None = None
    line1: str
    line2: str | None = None
    city: str
    region: str | None = Field(default=None, description="State/province code, e.g. MA")
    postal_code: str | None = None
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    phone: str | None = None


class Customer(BaseModel):
    external_id: str | None = None
    email: str | None = None
    name: str = ""
    phone: str | None = None
    email_consent: MarketingConsent | None = None
    sms_consent: MarketingConsent | None = None

    def identity_key(self, region: str = "US") -> str | None:
        """Who they are across orders and channels (see canonical/customer.py)."""
        return identity_key(self.email, self.phone, region)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def customer_ref(self) -> str | None:
        """Who they are as a digest: the ERP's key, and the key their data is sealed under
        (crypto-shredding, `infra/codec.py`); serialized with them."""
        return reference_of(self.email, self.phone)
