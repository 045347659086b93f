# The public names of eerest, one a line: type checkers read this stub, and
# eerest/__init__.py reads it too, to import each name when it is first used.

# eerest.emulator is the eerest-emulator distribution's package, for convenience at run time
# (type checkers see it as `import eerest_emulator`, which is what typed code should write).
import eerest_emulator as emulator  # noqa: F401

from . import errors as errors
from . import limits as limits
from . import tiling as tiling
from . import v1 as v1
from . import v1alpha as v1alpha
from . import v1beta as v1beta
from ._core.pagination import AsyncPager as AsyncPager
from ._core.pagination import SyncPager as SyncPager
from ._core.streaming import AsyncStreamedResponse as AsyncStreamedResponse
from ._core.streaming import StreamedResponse as StreamedResponse
from ._core.types import NOT_GIVEN as NOT_GIVEN
from ._core.types import NotGiven as NotGiven
from ._tasks.maps import MapTiles as MapTiles
from ._tasks.operation import AsyncOperation as AsyncOperation
from ._tasks.operation import Operation as Operation
from ._tasks.operation import OperationMetadata as OperationMetadata
from ._tasks.operation import OperationStage as OperationStage
from ._tasks.submit import SubmitError as SubmitError
from ._tasks.submit import SubmitPolicy as SubmitPolicy
from ._version import __version__ as __version__
from .errors import APIConnectionError as APIConnectionError
from .errors import APIError as APIError
from .errors import APIStatusError as APIStatusError
from .errors import APITimeoutError as APITimeoutError
from .errors import AuthenticationError as AuthenticationError
from .errors import BadRequestError as BadRequestError
from .errors import ConflictError as ConflictError
from .errors import CredentialsError as CredentialsError
from .errors import EERestError as EERestError
from .errors import GridWarning as GridWarning
from .errors import InternalServerError as InternalServerError
from .errors import InvalidRequestError as InvalidRequestError
from .errors import NotFoundError as NotFoundError
from .errors import OperationCancelledError as OperationCancelledError
from .errors import PaginationError as PaginationError
from .errors import PermissionDeniedError as PermissionDeniedError
from .errors import RateLimitError as RateLimitError
from .errors import RequestLimitError as RequestLimitError
from .errors import ResponseDecodeError as ResponseDecodeError
from .errors import ResumeError as ResumeError
from .pixels import GeoArray as GeoArray
from .pixels import Pixels as Pixels
from .v1 import AsyncClient as AsyncClient
from .v1 import Client as Client
