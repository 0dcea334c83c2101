"""Reading the per-package translation catalogues, and one language per request."""

from flask import current_app, request_started
from flask_babel import Domain, refresh


def init_app(app, babel) -> None:
    """Use CatalogueDomain, and pick the language afresh for every request.

    Flask-Babel caches the locale on `g`, which lives on the app context; when an app context spans several
    requests (tests, CLI), the first request's language would stick to the later ones.
    """
    babel.domain_instance = CatalogueDomain()
    request_started.connect(_forget_locale, app)


def _forget_locale(sender, **extra) -> None:
    refresh()


class CatalogueDomain(Domain):
    """Finds the `zh_CN` catalogues for Babel's locale `zh_Hans_CN`.

    Flask-Babel asks gettext for `str(locale)`, which for zh_CN is `zh_Hans_CN`; gettext then tries only
    `zh_Hans_CN` and `zh`, so the `<pkg>/translations/zh_CN` catalogues were never read. This domain also
    tries `language_TERRITORY`, and merges every package's catalogue once per locale.
    """

    def get_translations(self):
        from babel import support
        from flask import has_app_context
        from flask_babel import get_locale

        if not has_app_context():
            return support.NullTranslations()
        locale = get_locale()
        if locale is None:
            return support.NullTranslations()
        cache = current_app.extensions.setdefault("culturenet.translations", {})
        key = str(locale)
        if key not in cache:
            names = [key]
            if locale.territory:
                names.append(f"{locale.language}_{locale.territory}")
            names.append(locale.language)
            translations = support.Translations()
            for dirname in self.translation_directories:
                catalogue = support.Translations.load(dirname, names, self.domain[0])
                translations.merge(catalogue)
                if catalogue.files:  # merge() keeps the messages but not the plural rule (ngettext needs it)
                    translations.plural = catalogue.plural
            cache[key] = translations
        return cache[key]
