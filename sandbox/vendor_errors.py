"""A vendor-shaped error response raised from anywhere in a sandbox route."""

from fastapi import Request, Response


class VendorError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def vendor_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VendorError)
    return exc.response
