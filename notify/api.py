"""JSON API of the inbox: the messages a resident reads on the inbox page, for a mini-program or an app."""

from datetime import datetime

from flask_login import current_user
from pydantic import Field

from core.api import ApiBlueprint, OutSchema, Page, Schema
from notify import queries

api = ApiBlueprint("notify_api", __name__, tag="inbox")


class InboxQuery(Schema):
    page: int = Field(default=1, ge=1, le=10_000)


class InboxMessageOut(OutSchema):
    id: int
    subject: str | None
    body: str | None
    sent_at: datetime | None
    read_at: datetime | None


class InboxOut(Page[InboxMessageOut]):
    unread: int = Field(description="unread messages in the whole inbox (the navigation's badge)")


@api.endpoint(
    "/me/inbox",
    query=InboxQuery,
    response=InboxOut,
    errors=(405,),
    summary="The signed-in user's inbox, newest first, with the unread count",
)
def my_inbox(params: InboxQuery):
    result = queries.inbox_of(current_user, page=params.page)
    items = [InboxMessageOut.model_validate(m) for m in result.items]
    return InboxOut(items=items, total=result.total or 0, page=params.page, unread=queries.unread_count(current_user))
