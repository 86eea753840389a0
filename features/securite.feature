# language: fr
Fonctionnalité: Sécurité des appels à l'API du titulaire
  Les appels passent en HTTPS (TLS 1.2 au moins), avec authentification mutuelle TLS par un certificat
  de l'autorité convenue, et un jeton d'accès OAuth 2.0 valide, destiné à cette API et portant les droits
  de l'opération. Les erreurs ne divulguent aucune information interne.
  Chaque contrôle de la suite de sécurité du harnais est repris ici, une fois. Contre une plateforme externe, un
  contrôle qui demande ce que le titulaire n'a pas fourni pour sa recette (clé de signature de test de son
  émetteur, client en lecture seule, autre audience) est une réserve, avec sa raison et le réglage qui la
  lève, jamais réussi.

  Contexte:
    Étant donné les contrôles de sécurité du harnais ont été passés contre l'API du titulaire

  Plan du scénario: Contrôle de sécurité : <contrôle>
    Alors le contrôle « <contrôle> » est réussi

    Exemples: Transport et TLS mutuel
      | contrôle                                    |
      | HTTP en clair refusé                        |
      | TLS 1.0 refusé                              |
      | TLS 1.1 refusé                              |
      | Connexion sans certificat client refusée    |
      | Certificat client d'une AC inconnue refusé  |
      | Certificat client expiré refusé             |

    Exemples: Jetons d'accès OAuth 2.0
      | contrôle                                            |
      | Témoin : un jeton valide passe l'authentification   |
      | Appel sans jeton refusé (401)                       |
      | Jeton expiré refusé (401)                           |
      | Jeton pas encore valide refusé (401)                |
      | Jeton à la signature invalide refusé (401)          |
      | Jeton non signé (alg: none) refusé (401)            |
      | Jeton destiné à une autre API refusé (401)          |
      | Jeton d'un autre émetteur refusé (401)              |
      | Jeton signé par une clé inconnue refusé (401)       |
      | Portée insuffisante refusée (403)                   |
      | Jeton lié à un autre certificat refusé (401)        |

    Exemples: Divulgation d'informations
      | contrôle                                                  |
      | Aucune réponse d'erreur ne divulgue d'information interne |
