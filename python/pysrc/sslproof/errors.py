"""The exceptions of sslproof. Each names what to fix; each is also the builtin it refines, so
``except ValueError`` catches bad input as it would anywhere else."""


class SslproofError(Exception):
    """Base class of every error sslproof raises (never raised itself)."""


class ConfigError(SslproofError, ValueError):
    """An unknown loss, variant, parameter, mistake or precision, or a parameter out of range."""


class InputError(SslproofError, ValueError):
    """Inputs, gradients or a value that cannot be checked: wrong dtype, not 2-D, wrong count or
    shape, mismatched views, NaN or infinite entries, an empty batch, a covariance input that is
    not symmetric positive semi-definite, a batch the loss is undefined on."""


class TooLargeError(SslproofError, ValueError):
    """The job would need more memory than ``max_memory`` allows; decided before allocating."""


class OutOfRangeError(SslproofError, ValueError):
    """Finite inputs whose reference or tolerance overflows: outside the range the reference
    covers, so nothing can be concluded."""


class CallError(SslproofError, RuntimeError):
    """The function handed to :func:`sslproof.testing.assert_loss` raised, returned something that
    is not a scalar, or could not be differentiated."""
