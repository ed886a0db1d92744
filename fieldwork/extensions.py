"""Flask extensions, created once here and bound to the app in the factory."""

from typing import TYPE_CHECKING, ClassVar

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    if TYPE_CHECKING:
        #: Every model maps one table of its own (no inheritance mapping), so Core statements
        #: (insert, update, COPY) take `Model.__table__` as the Table it is.
        __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)
if TYPE_CHECKING:
    #: The base every model derives from: Flask-SQLAlchemy's `db.Model`, which type checkers
    #: cannot see through, is our typed `Base` with a table and a session behind it.
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
#: Limits only where a view asks for one (the login form); storage from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
