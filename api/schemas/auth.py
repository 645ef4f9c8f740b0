"""Sign-up and sign-in bodies: JSON (required fields, refused at validation) and the pages' forms
(every field may be empty; the service then refuses with its sentence beside the field)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class SignUp(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    name: str = Field(min_length=1, max_length=200)


class SignIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)




class LoginForm(BaseModel):
    email: str = Field(default="", max_length=254)
    password: str = Field(default="", max_length=1024)
    next: str = Field(default="/", description="the page to go back to (same-site paths only)")


class SignUpForm(LoginForm):
    name: str = Field(default="", max_length=200)


# ---- answers ----------------------------------------------------------------------------------------

class ClientOut(BaseModel):
    id: int
    email: str
    name: str


class SessionOut(BaseModel):
    signed_in: bool
    client: ClientOut | None
    csrf_token: str = Field(description="send it as X-CSRF-Token on every write")


class SignUpOut(BaseModel):
    status: str = Field(description="check_email")
    message: str
    csrf_token: str


class SignInOut(BaseModel):
    client: ClientOut
    csrf_token: str = Field(description="a new token: the one from before sign-in is worth nothing now")


class SignOutOut(BaseModel):
    signed_in: bool
    csrf_token: str
    sessions_ended: int | None = None
