"""Init snippets of the Aptabase SDKs and the web snippet for one app: its App-Key and the worker's URL. Pure.

Shown verbatim by `st.code` (a code block with a copy button, never Markdown), so event-free values only:
the key is A-SH- and digits, and the URL is the dashboard's own configuration.
"""
import json


def snippets(host, app_key):
    """[(label, language, code)] for Swift, Kotlin, Flutter, React Native, web (npm) and a plain web page."""
    host = host.rstrip("/")
    h, k = json.dumps(host), json.dumps(app_key)  # JSON string literals are valid in every language here
    return [
        ("Swift", "swift", f"import Aptabase\n\nAptabase.shared.initialize(appKey: {k}, with: InitOptions(host: {h}))\n"
                           'Aptabase.shared.trackEvent("app_started")'),
        ("Kotlin", "kotlin", "import com.aptabase.Aptabase\nimport com.aptabase.InitOptions\n\n"
                             f"Aptabase.instance.initialize(applicationContext, {k}, InitOptions(host = {h}))\n"
                             'Aptabase.instance.trackEvent("app_started")'),
        ("Flutter", "dart", "import 'package:aptabase_flutter/aptabase_flutter.dart';\n\n"
                            f"await Aptabase.init({k}, const InitOptions(host: {h}));\n"
                            "Aptabase.instance.trackEvent('app_started');"),
        ("React Native", "javascript", 'import Aptabase, { trackEvent } from "@aptabase/react-native";\n\n'
                                       f"Aptabase.init({k}, {{ host: {h} }});\n"
                                       'trackEvent("app_started");'),
        ("Web (npm)", "javascript", 'import { init, trackEvent } from "@aptabase/web";\n\n'
                                    f"init({k}, {{ host: {h}, appVersion: \"1.0.0\", isDebug: false }});\n"
                                    'trackEvent("page_view");'),
        ("Web page", "html", f'<script defer src="{host}/script.js" data-app-key="{app_key}"></script>\n'
                             "<button onclick=\"oddlytics.track('signup', {plan: 'team'})\">Sign up</button>"),
    ]
