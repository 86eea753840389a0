# language: fr
Fonctionnalité: Limite de 20 Mo par transaction
  Une transaction complète en mode API (paramètres, corps de la requête et corps de la réponse) ne
  dépasse pas 20 000 000 octets. Au-delà, le titulaire refuse le dépôt et renvoie vers le mode dossier
  (archives sur SFTP), que l'ASP annonce la taille de son envoi ou l'envoie par morceaux. Une taille
  annoncée au-delà de la limite se refuse sur l'annonce, avant de lire le corps : le harnais compte les
  octets qu'il a envoyés avant la réponse, qu'il demande d'abord à poursuivre (Expect: 100-continue) ou non.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-VOLUMINEUX" à l'itération 1

  Plan du scénario: Une transaction de 20 Mo exactement est acceptée, un octet de plus est refusé (envoi <envoi>)
    Quand l'ASP dépose une pièce dont la transaction atteint exactement la limite, <envoi>
    Alors le titulaire accuse réception avec un identifiant unique de dépôt
    Et la transaction complète mesure exactement la limite
    Quand l'ASP dépose une pièce dont la transaction dépasse la limite d'un octet, <envoi>
    Alors le titulaire refuse le dépôt et renvoie vers le mode dossier

    Exemples:
      | envoi                  |
      | en annonçant sa taille |
      | par morceaux           |

  Plan du scénario: Une taille annoncée au-delà de la limite est refusée avant la lecture du corps (<attente>)
    Quand l'ASP annonce un dépôt dont la transaction dépasse la limite d'un octet, <attente>
    Alors le titulaire refuse le dépôt avant d'en avoir reçu tout le corps

    Exemples:
      | attente                                  |
      | avec Expect: 100-continue                |
      | sans attendre d'invitation à poursuivre  |
